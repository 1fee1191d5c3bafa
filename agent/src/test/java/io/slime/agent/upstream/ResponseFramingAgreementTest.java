package io.slime.agent.upstream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Host;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.TLSPlacebo;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The framer against Pekko's own client parser, on random and mutated responses. The one outcome
 * that could mix answers up: the framer takes a response as complete, with nothing left over, on a
 * connection it would reuse, while Pekko reads it otherwise, so that the next response Pekko hands
 * out is not the next one the upstream sent. Every other outcome closes the connection.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ResponseFramingAgreementTest {
  private static final int CASES = 1500;
  private static final String PROBE = "HTTP/1.1 299 Probe\r\nContent-Length: 5\r\n\r\nprobe";

  private static final String[] TEMPLATES = {
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: t\r\n\r\n",
    "HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n",
    "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "HTTP/1.1 200 OK\r\nX-Name: caf\u00c3\u00a9\r\nContent-Length: 1\r\n\r\nx",
    "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
    "HTTP/1.1 404 Not Found\nContent-Length: 3\n\nnot",
  };

  private static final String[] TOKENS = {
    "\r",
    "\n",
    "\r\n",
    " ",
    "\t",
    ":",
    ";",
    "0",
    "1",
    "a",
    "f",
    "\u0080",
    "\u00c3",
    "\u00e9",
    "\u00ff",
    "\u0000",
    "\u007f",
    "Content-Length: 2\r\n",
    "Transfer-Encoding: chunked\r\n",
    "Connection: close\r\n",
    " \r\n",
    "HTTP/1.1 200 OK\r\n\r\n",
    "X: \u00e9\r\n",
    "\r\n\r\n",
  };

  private ActorSystem system;
  private Materializer materializer;

  @BeforeAll
  void start() {
    system = ActorSystem.create("framing-agreement");
    materializer = Materializer.matFromSystem(system);
  }

  @AfterAll
  void stop() {
    system.terminate();
  }

  @Test
  void shouldNeverTakeAsCompleteWhatPekkoReadsOtherwise() throws Exception {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    int checked = 0;
    for (int n = 0; n < CASES; n++) {
      String response = mutated(random);
      ResponseFraming framing = new ResponseFraming();
      framing.expect("GET");
      int own;
      try {
        own = framing.feed(bytes(response));
      } catch (MalformedResponseException e) {
        continue; // refused: the connection closes
      }
      if (own < response.length() || framing.awaiting() || !framing.reusable()) {
        continue; // stray bytes, more to come, or no reuse: the connection closes
      }
      checked++;
      String second = secondResponseAsPekkoReadsIt(response);
      if (second != null && !second.equals("299 probe")) {
        fail(
            "seed "
                + seed
                + ": the framer took "
                + printable(response)
                + " as one whole response, Pekko then answered "
                + second);
      }
    }
    // Most mutations break the framing; enough of them must still reach Pekko to mean something.
    assertTrue(checked > CASES / 20, "only " + checked + " cases reached Pekko");
  }

  /**
   * What Pekko's client hands the second of two requests when the upstream sends {@code first} and
   * then the probe: "status body", or null when Pekko refused {@code first} (the connection fails).
   */
  private String secondResponseAsPekkoReadsIt(String first) throws Exception {
    ByteString upstream = bytes(first + PROBE);
    @SuppressWarnings({"unchecked", "rawtypes"})
    Flow<HttpRequest, HttpResponse, NotUsed> client =
        Http.get(system)
            .clientLayer(Host.create("upstream"))
            .atop((org.apache.pekko.stream.javadsl.BidiFlow) TLSPlacebo.getInstance())
            .join(
                Flow.fromSinkAndSourceCoupled(
                    Sink.<ByteString>ignore(),
                    Source.single(upstream).concat(Source.<ByteString>maybe())));
    CompletableFuture<List<String>> answers =
        Source.from(List.of(HttpRequest.GET("/1"), HttpRequest.GET("/2")))
            .via(client)
            .mapAsync(
                1,
                r ->
                    r.entity()
                        .toStrict(2000, materializer)
                        .thenApply(s -> r.status().intValue() + " " + s.getData().utf8String()))
            .take(2)
            .runWith(Sink.seq(), materializer)
            .toCompletableFuture();
    try {
      return answers.get(5, TimeUnit.SECONDS).get(1);
    } catch (java.util.concurrent.ExecutionException e) {
      return null;
    }
  }

  private static String mutated(Random random) {
    StringBuilder s = new StringBuilder(TEMPLATES[random.nextInt(TEMPLATES.length)]);
    int edits = 1 + random.nextInt(3);
    for (int i = 0; i < edits; i++) {
      int at = random.nextInt(s.length() + 1);
      switch (random.nextInt(3)) {
        case 0 -> s.insert(at, TOKENS[random.nextInt(TOKENS.length)]);
        case 1 -> {
          if (at < s.length()) {
            s.deleteCharAt(at);
          }
        }
        default -> {
          if (at < s.length()) {
            s.setCharAt(at, TOKENS[random.nextInt(TOKENS.length)].charAt(0));
          }
        }
      }
    }
    return s.toString();
  }

  private static ByteString bytes(String latin1) {
    return ByteString.fromArray(latin1.getBytes(StandardCharsets.ISO_8859_1));
  }

  private static String printable(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      out.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\x%02x", (int) c));
    }
    return out.append('"').toString();
  }
}
