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
  private static final int CASES = 500;
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
    // Its body looks like the end of a head: a misread line end turns it into headers.
    "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nX: a\r\n\r\nY: 0\r\n\r\nz",
  };

  /** Inserted at every position of every template. */
  private static final String[] SINGLE = {"\u00e9", "\u00c3", "\r", "\n", " ", "\u0000", ":"};

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
    // A lead byte before CR LF, then a line Pekko would take as a header and the framer as body.
    "X: a\u00e9\r\n\r\nContent-Length: 0\r\n",
    "X: \u00c3\r\nContent-Length: 9\r\n",
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
    List<String> cases = new java.util.ArrayList<>();
    for (String template : TEMPLATES) {
      for (int at = 0; at <= template.length(); at++) {
        for (String token : SINGLE) {
          cases.add(template.substring(0, at) + token + template.substring(at));
        }
      }
    }
    for (int n = 0; n < CASES; n++) {
      cases.add(mutated(random));
    }
    int checked = 0;
    for (String response : cases) {
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
      List<String> pekko = asPekkoReadsIt(response);
      // Pekko refusing the first response fails the connection: nothing more is handed out.
      boolean agrees =
          pekko.get(0).equals("refused") || (pekko.size() == 2 && pekko.get(1).equals("299 probe"));
      if (!agrees) {
        fail(
            "seed "
                + seed
                + ": the framer took "
                + printable(response)
                + " as one whole response, Pekko answered "
                + pekko);
      }
    }
    // Most mutations break the framing; enough of them must still reach Pekko to mean something.
    assertTrue(checked > cases.size() / 20, "only " + checked + " cases reached Pekko");
  }

  /**
   * What Pekko's client hands two requests when the upstream sends {@code first} and then the
   * probe: "status body" for each answer it gives, "refused" where it fails instead.
   */
  private List<String> asPekkoReadsIt(String first) throws Exception {
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
            .recover(Throwable.class, () -> "refused")
            .take(2)
            .runWith(Sink.seq(), materializer)
            .toCompletableFuture();
    try {
      return answers.get(3, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      return List.of("nothing: Pekko still reads the first response");
    }
  }

  /** A template with one to three edits, half of them at the start of a line. */
  private static String mutated(Random random) {
    StringBuilder s = new StringBuilder(TEMPLATES[random.nextInt(TEMPLATES.length)]);
    int edits = 1 + random.nextInt(3);
    for (int i = 0; i < edits; i++) {
      int at = random.nextInt(s.length() + 1);
      if (random.nextBoolean()) {
        int lf = s.indexOf("\n", at);
        at = lf < 0 ? s.length() : lf + 1;
      }
      String token = TOKENS[random.nextInt(TOKENS.length)];
      switch (random.nextInt(3)) {
        case 0 -> s.insert(at, token);
        case 1 -> {
          if (at < s.length()) {
            s.deleteCharAt(at);
          }
        }
        default -> {
          if (at < s.length()) {
            s.setCharAt(at, token.charAt(0));
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
