package io.slime.agent.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.slime.shared.net.ServiceAddress;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Host;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.stream.Materializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** One upstream connection, with Pekko's layers and the response guard between them. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UpstreamConnectionTest {
  private ActorSystem system;
  private Materializer materializer;

  @BeforeAll
  void start() {
    system = ActorSystem.create("upstream-connection-test");
    materializer = Materializer.matFromSystem(system);
  }

  @AfterAll
  void stop() {
    system.terminate();
  }

  @Test
  void shouldCarryRequestsToAnHttpsUpstreamOnOneKeptAliveConnection(@TempDir Path dir)
      throws Exception {
    Path keyStore = dir.resolve("upstream.p12");
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-keystore",
                keyStore.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                "secret",
                "-alias",
                "upstream",
                "-keyalg",
                "EC",
                "-dname",
                "CN=127.0.0.1",
                "-ext",
                "SAN=ip:127.0.0.1",
                "-validity",
                "2")
            .redirectErrorStream(true)
            .start();
    keytool.getInputStream().readAllBytes();
    assertTrue(keytool.waitFor(60, TimeUnit.SECONDS) && keytool.exitValue() == 0, "keytool");
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(keyStore.toFile())) {
      keys.load(in, "secret".toCharArray());
    }
    KeyManagerFactory keyManagers =
        KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keyManagers.init(keys, "secret".toCharArray());
    SSLContext serverTls = SSLContext.getInstance("TLS");
    serverTls.init(keyManagers.getKeyManagers(), null, null);
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(keys);
    SSLContext clientTls = SSLContext.getInstance("TLS");
    clientTls.init(null, trust.getTrustManagers(), null);

    HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
    server.setHttpsConfigurator(new HttpsConfigurator(serverTls));
    server.createContext(
        "/",
        exchange -> {
          byte[] body = exchange.getRequestURI().toString().getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    try {
      ServiceAddress address =
          ServiceAddress.parse("https://127.0.0.1:" + server.getAddress().getPort());
      UpstreamConnection connection =
          new UpstreamConnection(
              address, ClientConnectionSettings.create(system), clientTls, system);
      for (String target : List.of("/first", "/second")) {
        UpstreamConnection.Sent sent = connection.send(get(address, target));
        HttpResponse response = sent.response().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(200, response.status().intValue());
        assertEquals(target, body(response));
        assertEquals(target.equals("/second"), sent.reused(), "kept alive");
      }
      assertTrue(connection.isOpen());
      connection.abort("done");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void shouldFailAMalformedAnswerAsMalformedAndNotReuseTheConnection() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      Thread upstream =
          new Thread(
              () -> {
                try (Socket socket = server.accept()) {
                  readHead(socket.getInputStream());
                  OutputStream out = socket.getOutputStream();
                  out.write(
                      "HTTP/1.1 200 OK\r\nX: a\u00e9\r\nContent-Length: 2\r\n\r\nok"
                          .getBytes(StandardCharsets.ISO_8859_1));
                  out.flush();
                  socket.getInputStream().read();
                } catch (Exception e) {
                  // The connection closed, as it should.
                }
              });
      upstream.start();
      ServiceAddress address = ServiceAddress.parse("127.0.0.1:" + server.getLocalPort());
      UpstreamConnection connection =
          new UpstreamConnection(address, ClientConnectionSettings.create(system), system);
      UpstreamConnection.Sent sent = connection.send(get(address, "/bad"));
      Throwable failure =
          assertInstanceOf(
                  CompletionException.class,
                  org.junit.jupiter.api.Assertions.assertThrows(
                      Exception.class, () -> sent.response().toCompletableFuture().join()))
              .getCause();
      UpstreamConnection.FailedException failed =
          assertInstanceOf(UpstreamConnection.FailedException.class, failure);
      assertEquals(UpstreamConnection.FailedException.Why.MALFORMED, failed.why());
      assertTrue(failed.getMessage().contains("not UTF-8"), failed.getMessage());
      assertFalse(connection.isOpen());
      upstream.join(10_000);
    }
  }

  private static HttpRequest get(ServiceAddress address, String target) {
    return HttpRequest.GET(target).addHeader(Host.create(address.host(), address.port()));
  }

  private String body(HttpResponse response) throws Exception {
    return response
        .entity()
        .toStrict(5000, materializer)
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS)
        .getData()
        .utf8String();
  }

  private static void readHead(InputStream in) throws java.io.IOException {
    int matched = 0;
    for (int b; matched < 4 && (b = in.read()) >= 0; ) {
      matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
    }
  }
}
