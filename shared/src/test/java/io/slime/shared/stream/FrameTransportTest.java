package io.slime.shared.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slime.shared.protocol.Frame;
import io.slime.shared.protocol.FrameCodec;
import io.slime.shared.protocol.Header;
import io.slime.shared.protocol.ProtocolException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ws.BinaryMessage;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.http.javadsl.model.ws.WebSocketRequest;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgradeResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Two FrameTransports talking over a real WebSocket: a Pekko HTTP server and client. */
class FrameTransportTest {

  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final ActorSystem<Void> system = testKit.system();
  private static final int CHUNK = 64 * 1024;
  private static final TimeUnit SEC = TimeUnit.SECONDS;

  /** The server side of each accepted connection, in order. */
  private static final BlockingQueue<Peer> accepted = new LinkedBlockingQueue<>();

  private static ServerBinding binding;

  /** One end of a connection: its transport and what its listener heard. */
  private record Peer(FrameTransport transport, BlockingQueue<InboundEvent> events) {
    static Peer create() {
      BlockingQueue<InboundEvent> events = new LinkedBlockingQueue<>();
      return new Peer(FrameTransport.create(events::add, system), events);
    }

    <T extends InboundEvent> T next(Class<T> type) throws InterruptedException {
      InboundEvent event = events.poll(5, TimeUnit.SECONDS);
      assertNotNull(event, "no " + type.getSimpleName() + " event");
      return assertInstanceOf(type, event);
    }

    void send(Source<Frame, NotUsed> frames) {
      assertTrue(transport.send(frames));
    }
  }

  @BeforeAll
  static void startServer() throws Exception {
    binding =
        Http.get(system)
            .newServerAt("127.0.0.1", 0)
            .bind(new SocketRoutes().route())
            .toCompletableFuture()
            .get(5, TimeUnit.SECONDS);
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldCarryAStreamedRequestAndItsEchoedResponse() throws Exception {
    Peer client = connect();
    Peer server = accepted.poll(5, TimeUnit.SECONDS);
    assertNotNull(server, "the server accepted no connection");
    ByteString payload = randomBytes(3 * 1024 * 1024);
    Frame.RequestStart start =
        new Frame.RequestStart(
            1,
            "POST",
            "/upload?name=ünïcode",
            List.of(new Header("X-Trace", "☃")),
            "application/octet-stream",
            payload.size(),
            false,
            ByteString.emptyByteString());

    client.send(Source.<Frame>single(start).concat(chunksOf(1, payload)));

    InboundEvent.Started request = server.next(InboundEvent.Started.class);
    assertEquals(start, request.start());
    // Echo the body back while it still arrives: both directions stream at once.
    Pair<CompletionStage<String>, Source<ByteString, NotUsed>> received =
        request.body().alsoToMat(sha256(), Keep.right()).preMaterialize(system);
    Frame.ResponseStart head =
        new Frame.ResponseStart(
            1, 200, List.of(), "application/octet-stream", -1, false, ByteString.emptyByteString());
    server.send(
        Source.<Frame>single(head)
            .concat(received.second().map(bytes -> new Frame.BodyChunk(1, bytes, false)))
            .concat(Source.single(new Frame.BodyChunk(1, ByteString.emptyByteString(), true))));

    InboundEvent.Started response = client.next(InboundEvent.Started.class);
    assertEquals(head, response.start());
    String echoed = response.body().runWith(sha256(), system).toCompletableFuture().get(10, SEC);
    String expected = HexFormat.of().formatHex(digest(payload));
    assertEquals(expected, received.first().toCompletableFuture().get(10, SEC));
    assertEquals(expected, echoed);
    assertEquals(1, server.next(InboundEvent.BodyEnded.class).exchange());
    assertEquals(1, client.next(InboundEvent.BodyEnded.class).exchange());
  }

  @Test
  void shouldCloseBothEndsWhenOneSideStopsSending() throws Exception {
    Peer client = connect();
    Peer server = accepted.poll(5, TimeUnit.SECONDS);
    assertNotNull(server);
    client.send(Source.single(new Frame.Cancel(7)));
    assertEquals(new Frame.Cancel(7), server.next(InboundEvent.Signal.class).frame());

    client.transport().close();

    assertNull(server.next(InboundEvent.Closed.class).failure());
    client.next(InboundEvent.Closed.class);
  }

  @Test
  void shouldCloseTheConnectionOnATextMessage() throws Exception {
    CompletionStage<Done> clientSeesClose =
        connectRaw(Source.<Message>single(TextMessage.create("hello")));
    Peer server = accepted.poll(5, TimeUnit.SECONDS);
    assertNotNull(server);

    Throwable failure = server.next(InboundEvent.Closed.class).failure();

    assertInstanceOf(ProtocolException.class, failure);
    awaitEnd(clientSeesClose);
  }

  @Test
  void shouldCloseTheConnectionOnAStreamedMessageOverTheLimit() throws Exception {
    ByteString block = randomBytes(CHUNK);
    int blocks = FrameCodec.MAX_FRAME_BYTES / CHUNK + 2;
    CompletionStage<Done> clientSeesClose =
        connectRaw(Source.single(BinaryMessage.create(Source.repeat(block).take(blocks))));
    Peer server = accepted.poll(5, TimeUnit.SECONDS);
    assertNotNull(server);

    Throwable failure = server.next(InboundEvent.Closed.class).failure();

    assertInstanceOf(ProtocolException.class, failure);
    awaitEnd(clientSeesClose);
  }

  private static final class SocketRoutes extends AllDirectives {
    Route route() {
      return path(
          "ws",
          () ->
              extractRequest(
                  request -> {
                    Peer peer = Peer.create();
                    accepted.add(peer);
                    return handleWebSocketMessages(peer.transport().flow());
                  }));
    }
  }

  private static String uri() {
    return "ws://127.0.0.1:" + binding.localAddress().getPort() + "/ws";
  }

  private static Peer connect() throws Exception {
    accepted.clear(); // leftovers of a test that failed early
    Peer client = Peer.create();
    Http.get(system)
        .singleWebSocketRequest(
            WebSocketRequest.create(uri()),
            client.transport().flow(),
            Materializer.matFromSystem(system))
        .first()
        .toCompletableFuture()
        .get(5, SEC);
    return client;
  }

  /** Connects a client that sends the given messages then stays open; completes when it closes. */
  private static CompletionStage<Done> connectRaw(Source<Message, NotUsed> messages)
      throws Exception {
    accepted.clear();
    Flow<Message, Message, CompletionStage<Done>> flow =
        Flow.fromSinkAndSourceMat(
            Sink.<Message>foreach(
                message ->
                    message.asBinaryMessage().getStreamedData().runWith(Sink.ignore(), system)),
            messages.concat(Source.maybe()),
            Keep.left());
    Pair<CompletionStage<WebSocketUpgradeResponse>, CompletionStage<Done>> connected =
        Http.get(system)
            .singleWebSocketRequest(
                WebSocketRequest.create(uri()), flow, Materializer.matFromSystem(system));
    connected.first().toCompletableFuture().get(5, SEC);
    return connected.second();
  }

  private static void awaitEnd(CompletionStage<Done> end) throws Exception {
    // Closed cleanly or with an error: either way it must not stay open.
    end.handle((done, failure) -> Done.getInstance()).toCompletableFuture().get(5, SEC);
  }

  private static Source<Frame, NotUsed> chunksOf(int exchange, ByteString payload) {
    int count = (payload.size() + CHUNK - 1) / CHUNK;
    return Source.range(0, count - 1)
        .map(
            i ->
                new Frame.BodyChunk(
                    exchange,
                    payload.slice(i * CHUNK, Math.min((i + 1) * CHUNK, payload.size())),
                    i == count - 1));
  }

  private static Sink<ByteString, CompletionStage<String>> sha256() {
    return Sink.<MessageDigest, ByteString>fold(
            newDigest(),
            (md, bytes) -> {
              md.update(bytes.toArrayUnsafe());
              return md;
            })
        .mapMaterializedValue(done -> done.thenApply(md -> HexFormat.of().formatHex(md.digest())));
  }

  private static byte[] digest(ByteString bytes) {
    return newDigest().digest(bytes.toArray());
  }

  private static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ByteString randomBytes(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return ByteString.fromArrayUnsafe(bytes);
  }
}
