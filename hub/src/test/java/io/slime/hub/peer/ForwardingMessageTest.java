package io.slime.hub.peer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.slime.hub.model.WorkerProfile;
import io.slime.shared.protocol.Header;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.apache.pekko.serialization.jackson.JacksonCborSerializer;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamRefs;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class ForwardingMessageTest {
  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldSerializeEveryMessageBetweenTheTwoSidesOfAForwardedRequest() {
    TestProbe<PeerRequest.Command> served = testKit.createTestProbe();
    SourceRef<ByteString> body =
        Source.single(ByteString.fromString("body"))
            .runWith(StreamRefs.sourceRef(), Materializer.matFromSystem(testKit.system()));
    WorkerProfile profile = new WorkerProfile("id-1", "gpu-box", 2, List.of("gpu"), List.of());
    RemoteResponse inline =
        new RemoteResponse(
            200,
            List.of(new Header("Content-Type", "text/plain")),
            "gpu-box",
            "text/plain",
            2,
            new byte[] {'o', 'k'},
            null);
    List<ForwardingMessage> messages =
        List.of(
            new ForwardedRequest.Accepted(served.ref(), profile),
            ForwardedRequest.Declined.INSTANCE,
            new ForwardedRequest.Answer(inline),
            new PeerRequest.Body(body),
            PeerRequest.Cancel.INSTANCE);

    Set<Class<?>> covered = new HashSet<>();
    for (ForwardingMessage message : messages) {
      covered.add(message.getClass());
      assertRoundTrip(message);
    }
    assertEquals(
        Set.of(ForwardingMessage.class.getPermittedSubclasses()),
        covered,
        "one sample of every message between the two sides");
  }

  /** Through Pekko's serialization, with the serializer its binding picks (jackson-cbor). */
  private static void assertRoundTrip(Object message) {
    Serialization serialization = SerializationExtension.get(testKit.system());
    Serializer serializer = serialization.findSerializerFor(message);
    assertInstanceOf(JacksonCborSerializer.class, serializer, message.toString());
    byte[] bytes = serialization.serialize(message).get();
    Object back =
        serialization
            .deserialize(
                bytes, serializer.identifier(), Serializers.manifestFor(serializer, message))
            .get();
    assertEquals(message.getClass(), back.getClass());
    // Byte for byte the same once serialized again: arrays inside compare by identity otherwise.
    assertArrayEquals(bytes, serialization.serialize(back).get(), message.toString());
    if (!(message instanceof ForwardedRequest.Answer)) {
      assertEquals(message, back);
    }
  }
}
