package io.slime.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slime.agent.Agents;
import io.slime.agent.connection.HubConnection;
import io.slime.hub.Hub;
import io.slime.hub.tls.ServerCertificate;
import io.slime.hub.tls.TlsLayer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.LoggerFactory;

/**
 * A hub serving TLS on its one port: applications (the JDK's client and curl) and an agent over
 * wss, a certificate replaced on disk while connections stay open, bad replacements refused, the
 * reload endpoint, and clients that do not speak TLS or do not trust the hub.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsIT {
  private static final String ADMIN = "tls-admin-token";
  private static final Duration SWAP_BOUND = Duration.ofSeconds(10);
  private static final ObjectMapper JSON = new ObjectMapper();

  private Path dir;
  private TestCertificates certs;
  private TestCertificates.Server first;
  private TestCertificates.Server second;
  private TestCertificates.Server third;
  private Path liveCert;
  private Path liveKey;
  private TestUpstream upstream;
  private Hub hub;
  private Agents agent;
  private SSLContext trusting;

  @BeforeAll
  void start() throws IOException {
    dir = Files.createTempDirectory("slime-tls");
    certs = new TestCertificates(dir);
    first = certs.server("hub-first", TestCertificates.KeyForm.PKCS1_RSA);
    second = certs.server("hub-second", TestCertificates.KeyForm.SEC1_EC);
    third = certs.server("hub-third", TestCertificates.KeyForm.PKCS8_RSA);
    liveCert = dir.resolve("live.pem");
    liveKey = dir.resolve("live.key");
    install(first);
    trusting = certs.clientContext();
    upstream = TestUpstream.start();
    hub =
        Slime.hub(
            Map.of(
                "tls.cert",
                liveCert.toString(),
                "tls.key",
                liveKey.toString(),
                "tls.watch-interval",
                "500ms",
                // Short, so that the test shows connections that finished their handshake are
                // not held to it: the stream below and the agents' sockets outlive it.
                "client-head-timeout",
                "2s",
                "admin-token",
                ADMIN));
    agent =
        Slime.agent(
            url(""),
            Slime.token("tls-agent"),
            upstream.address(),
            // One for a streaming response, one for the kept-alive connection, one for the rest.
            3,
            "tls-agent",
            Map.of("ca-cert", certs.ca().toString()));
    awaitServed(client());
  }

  @AfterAll
  void stop() {
    Slime.closeAll(agent, hub, upstream);
  }

  @Test
  void shouldServeApplicationsThroughAnAgentOverWss() {
    HttpResponse<String> response = get(client(), "/echo?over=tls");
    assertEquals(200, response.statusCode());
    assertEquals("tls-agent", Client.header(response, "Slime-Agent"));
    assertTrue(response.body().contains("\"over=tls\""), response.body());
  }

  @Test
  void shouldAnswerCurlThatTrustsTheCa() throws Exception {
    for (String host : List.of("127.0.0.1", "localhost")) {
      Process curl =
          new ProcessBuilder(
                  "curl",
                  "-sS",
                  "--cacert",
                  certs.ca().toString(),
                  "-o",
                  "/dev/null",
                  "-w",
                  "%{http_code}",
                  "https://" + host + ":" + hub.address().getPort() + "/echo")
              .redirectErrorStream(true)
              .start();
      String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(curl.waitFor(30, TimeUnit.SECONDS));
      assertEquals("200", out.strip(), "curl to " + host);
    }
  }

  @Test
  void shouldCloseAPlainHttpConnectionRatherThanHang() throws IOException {
    ListAppender<ILoggingEvent> log = capture(TlsLayer.class);
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", hub.address().getPort()), 5000);
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      try {
        // Whatever the hub sends (a TLS alert at most), the connection ends.
        while (in.read() != -1) {
          // drain
        }
      } catch (SocketTimeoutException e) {
        fail("the hub kept a plain HTTP connection open on its TLS port");
      } catch (IOException reset) {
        // A reset is a closed connection too.
      }
      ILoggingEvent line =
          await(log, e -> e.getLevel().toString().equals("WARN"), Duration.ofSeconds(5));
      assertTrue(
          line.getFormattedMessage().contains("does not speak TLS"), line.getFormattedMessage());
    } finally {
      release(TlsLayer.class, log);
    }
  }

  @Test
  void shouldCloseAConnectionThatNeverFinishesItsHandshake() throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", hub.address().getPort()), 5000);
      socket.setSoTimeout(10_000);
      // The first bytes of a TLS handshake record, and then silence.
      socket.getOutputStream().write(new byte[] {0x16, 0x03, 0x01});
      long opened = System.nanoTime();
      try {
        while (socket.getInputStream().read() != -1) {
          // drain
        }
      } catch (SocketTimeoutException e) {
        fail("the hub held a connection whose handshake never ended");
      } catch (IOException reset) {
        // A reset is a closed connection too.
      }
      long heldMs = (System.nanoTime() - opened) / 1_000_000;
      assertTrue(heldMs >= 1500, "closed after " + heldMs + " ms, before the head timeout");
    }
  }

  @Test
  void shouldRefuseAnAgentThatDoesNotTrustTheHubWithOneClearLine() {
    ListAppender<ILoggingEvent> log = capture(HubConnection.class);
    try (Agents untrusting =
        Slime.agent(url(""), Slime.token("no-ca"), upstream.address(), 1, "no-ca", Map.of())) {
      ILoggingEvent line =
          await(
              log,
              e ->
                  e.getFormattedMessage().contains("no-ca")
                      && e.getLevel().toString().equals("WARN"),
              Duration.ofSeconds(15));
      assertTrue(
          line.getFormattedMessage().contains("unable to find valid certification path"),
          line.getFormattedMessage());
    } finally {
      release(HubConnection.class, log);
    }
  }

  @Test
  void shouldRequireTheAdminTokenForAReload() {
    HttpResponse<String> response =
        send(
            client(),
            HttpRequest.newBuilder(URI.create(url("/_slime/api/v1/tls/reload")))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build());
    assertEquals(401, response.statusCode());
  }

  @Test
  void shouldRefuseToStartOnAnUnusableKeyNamingTheKeyAndTheReason() throws Exception {
    Path garbage = dir.resolve("garbage.key");
    Files.writeString(garbage, "not a key\n");
    Path log = dir.resolve("refused-start.log");
    Process process =
        Slime.startProcess(
            List.of(),
            log,
            "hub",
            "run",
            "--secret",
            "s",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--tlsCert",
            first.cert().toString(),
            "--tlsKey",
            garbage.toString());
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the hub did not exit");
    assertEquals(2, process.exitValue());
    String output = Files.readString(log);
    assertTrue(
        output.contains(
            "Invalid configuration: Invalid value at 'slime.hub.tls.key': "
                + garbage
                + ": holds no PEM private key"),
        output);
  }

  /**
   * One test for the whole swap story, in order: a replaced certificate reaches new connections
   * within the bound while a kept-alive connection and a streaming response keep theirs; a broken
   * replacement is refused and the served certificate stays; the reload endpoint tells both.
   */
  @Test
  void shouldSwapTheCertificateOnDiskWithoutDroppingOpenConnections() throws Exception {
    install(first);
    reload();
    HttpClient kept = client();
    assertEquals("CN=hub-first", subject(get(kept, "/echo")));

    HttpClient streaming = client();
    HttpResponse<InputStream> events =
        streaming.send(
            HttpRequest.newBuilder(URI.create(url("/events?count=30&intervalMs=100"))).build(),
            HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, events.statusCode());
    BufferedReader stream =
        new BufferedReader(new InputStreamReader(events.body(), StandardCharsets.UTF_8));
    assertNotNull(stream.readLine());

    long swapped = System.nanoTime();
    install(second);
    awaitSubject("CN=hub-second");
    long tookMs = (System.nanoTime() - swapped) / 1_000_000;
    System.out.println(
        "TlsIT: a new connection saw the replaced certificate after " + tookMs + " ms");

    // The kept-alive connection is the same one, with the certificate it started with.
    HttpResponse<String> again = get(kept, "/echo");
    assertEquals(200, again.statusCode());
    assertEquals("CN=hub-first", subject(again));
    int lines = 1;
    while (stream.readLine() != null) {
      lines++;
    }
    assertTrue(lines >= 30 * 2, "the event stream ended early, after " + lines + " lines");
    assertEquals(200, get(client(), "/echo").statusCode(), "the agent still serves");

    // A broken certificate file: one WARN line naming it, and the old certificate stays.
    ListAppender<ILoggingEvent> log = capture(ServerCertificate.class);
    try {
      Files.writeString(liveCert, "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n");
      ILoggingEvent refused = await(log, e -> e.getLevel().toString().equals("WARN"), SWAP_BOUND);
      assertTrue(refused.getFormattedMessage().contains(liveCert.toString()));
      assertTrue(refused.getFormattedMessage().contains("CN=hub-second"));
      assertEquals("CN=hub-second", subject(get(client(), "/echo")));

      // A key of another certificate is refused on demand too, with the reason.
      Files.copy(third.key(), liveKey, StandardCopyOption.REPLACE_EXISTING);
      Files.copy(second.cert(), liveCert, StandardCopyOption.REPLACE_EXISTING);
      HttpResponse<String> mismatch = reload();
      assertEquals(422, mismatch.statusCode());
      assertEquals("bad-certificate", Client.header(mismatch, "Slime-Error"));
      JsonNode body = JSON.readTree(mismatch.body());
      assertEquals(liveKey.toString(), body.get("file").asText());
      assertTrue(body.get("reason").asText().contains("does not match"), mismatch.body());
      assertEquals("CN=hub-second", body.get("served").get("subject").asText());
      assertEquals("CN=hub-second", subject(get(client(), "/echo")));
    } finally {
      release(ServerCertificate.class, log);
    }

    // Good files again, reloaded on demand: the answer names the new certificate.
    install(third);
    HttpResponse<String> reloaded = reload();
    assertEquals(200, reloaded.statusCode(), reloaded.body());
    JsonNode body = JSON.readTree(reloaded.body());
    assertEquals("CN=hub-third", body.get("subject").asText());
    assertEquals("CN=slime test CA", body.get("issuer").asText());
    assertTrue(body.get("notAfter").asText().matches("\\d{4}-\\d\\d-\\d\\dT.*Z"), reloaded.body());
    assertEquals("CN=hub-third", subject(get(client(), "/echo")));
  }

  /** Puts a certificate and key in place as a deploy tool does: each file moved in whole. */
  private void install(TestCertificates.Server server) throws IOException {
    for (Path[] pair : new Path[][] {{server.key(), liveKey}, {server.cert(), liveCert}}) {
      Path staged = Files.createTempFile(dir, "staged", ".tmp");
      Files.copy(pair[0], staged, StandardCopyOption.REPLACE_EXISTING);
      Files.move(staged, pair[1], StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private HttpResponse<String> reload() {
    return send(
        client(),
        HttpRequest.newBuilder(URI.create(url("/_slime/api/v1/tls/reload")))
            .header("Authorization", "Bearer " + ADMIN)
            .POST(HttpRequest.BodyPublishers.noBody())
            .build());
  }

  private void awaitSubject(String expected) {
    long deadline = System.nanoTime() + SWAP_BOUND.toNanos();
    String seen = null;
    while (System.nanoTime() < deadline) {
      seen = subject(get(client(), "/echo"));
      if (expected.equals(seen)) {
        return;
      }
      Slime.sleep(100);
    }
    fail("new connections still got " + seen + " after " + SWAP_BOUND);
  }

  private void awaitServed(HttpClient client) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      if (get(client, "/echo").statusCode() == 200) {
        return;
      }
      Slime.sleep(100);
    }
    fail("the agent did not connect over wss within 20 s");
  }

  /** A new client: its requests open new connections. */
  private HttpClient client() {
    return HttpClient.newBuilder()
        .sslContext(trusting)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  private String url(String target) {
    return "https://127.0.0.1:" + hub.address().getPort() + target;
  }

  private HttpResponse<String> get(HttpClient client, String target) {
    return send(client, HttpRequest.newBuilder(URI.create(url(target))).build());
  }

  private static HttpResponse<String> send(HttpClient client, HttpRequest request) {
    try {
      return client.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static String subject(HttpResponse<?> response) {
    try {
      X509Certificate served =
          (X509Certificate) response.sslSession().orElseThrow().getPeerCertificates()[0];
      return served.getSubjectX500Principal().getName();
    } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ListAppender<ILoggingEvent> capture(Class<?> source) {
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    ((Logger) LoggerFactory.getLogger(source)).addAppender(appender);
    return appender;
  }

  private static void release(Class<?> source, ListAppender<ILoggingEvent> appender) {
    ((Logger) LoggerFactory.getLogger(source)).detachAppender(appender);
  }

  private static ILoggingEvent await(
      ListAppender<ILoggingEvent> log, Predicate<ILoggingEvent> match, Duration bound) {
    long deadline = System.nanoTime() + bound.toNanos();
    while (System.nanoTime() < deadline) {
      List<ILoggingEvent> events;
      synchronized (log) {
        events = new ArrayList<>(log.list);
      }
      for (ILoggingEvent event : events) {
        if (match.test(event)) {
          return event;
        }
      }
      Slime.sleep(50);
    }
    return fail("no matching log line within " + bound);
  }
}
