package io.slime.hub.http;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.slime.hub.admin.AdminRoutes;
import io.slime.hub.dispatch.Dispatcher;
import io.slime.hub.limit.ClientRateLimiter;
import io.slime.hub.metrics.MetricsEndpoint;
import io.slime.hub.model.ProxyError;
import io.slime.hub.peer.ConcurrencyShare;
import io.slime.hub.replicated.SharedState;
import io.slime.hub.stats.TrafficStats;
import io.slime.hub.tls.ServerCertificate;
import io.slime.hub.tls.TlsLayer;
import io.slime.shared.log.LogThrottle;
import io.slime.shared.protocol.SlimeHeaders;
import io.slime.shared.token.TokenCodec;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.settings.ParserSettings;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.TLSProtocol.SslTlsInbound;
import org.apache.pekko.stream.TLSProtocol.SslTlsOutbound;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.TLSPlacebo;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hub's one port: applications and agents alike. Binds with Pekko's TCP and puts, on each
 * connection, Pekko HTTP's server layer behind a {@link HeadGuard}: the guard checks each request
 * head's bytes before Pekko's parser reads them and times heads, while each connection's end is
 * seen: a request still waiting when its connection closes has lost its application, and leaves the
 * queue or has its upstream call cancelled. Holds at most {@link ConnectionLimit} connections,
 * sized from the process's descriptor limit, and refuses more with 503 too-many-connections. With
 * {@code slime.hub.tls}, a {@link TlsLayer} below the guard decrypts each connection.
 */
public final class FrontDoor {
  private static final Logger log = LoggerFactory.getLogger(FrontDoor.class);

  /** How long answers already given may take to reach their applications when the hub stops. */
  public static final Duration FLUSH_DEADLINE = Duration.ofSeconds(2);

  /** Pekko's server layer speaks TLS records; this port carries plain bytes. */
  @SuppressWarnings("unchecked")
  private static final BidiFlow<SslTlsOutbound, ByteString, ByteString, SslTlsInbound, NotUsed>
      PLACEBO =
          (BidiFlow<SslTlsOutbound, ByteString, ByteString, SslTlsInbound, NotUsed>)
              (BidiFlow<?, ?, ?, ?, ?>) TLSPlacebo.getInstance();

  /** Written straight to a connection past the limit, which Pekko HTTP never serves. */
  private static final ByteString TOO_MANY = rendered(ProxyError.TOO_MANY_CONNECTIONS);

  /** Where the hub listens, and how many connections it holds at most. */
  public record Binding(InetSocketAddress address, ConnectionLimit limit) {}

  private final ActorSystem<?> system;
  private final HubSettings settings;
  private final Materializer materializer;
  private final ProxyHandler proxy;
  private final AgentSocketHandler agentSockets;
  private final AdminRoutes admin;
  private final ActorRef<Dispatcher.Command> dispatcher;
  private final ServerSettings serverSettings;

  /** The certificate the port serves, or null when it speaks plain HTTP. */
  private final ServerCertificate certificate;

  private final TlsLayer tls;
  private ConnectionLimit limit;

  /** Open client connections (agents' included), each with when it ends. */
  private final Map<ClientConnection, CompletionStage<Done>> connections =
      new ConcurrentHashMap<>();

  private final LogThrottle refusals = new LogThrottle(Duration.ofSeconds(10));

  /** {@code config} is the whole merged configuration, for the admin API's view of it. */
  public FrontDoor(
      ActorSystem<?> system,
      HubSettings settings,
      Config config,
      TokenCodec tokens,
      SharedState shared,
      ActorRef<Dispatcher.Command> dispatcher,
      TrafficStats traffic) {
    this.system = system;
    this.settings = settings;
    this.materializer = Materializer.matFromSystem(system);
    this.dispatcher = dispatcher;
    this.serverSettings = ServerSettings.create(system.classicSystem());
    this.certificate = settings.tls().map(ServerCertificate::new).orElse(null);
    this.tls =
        certificate == null
            ? null
            : new TlsLayer(
                certificate,
                settings.clientHeadTimeout(),
                system.classicSystem().scheduler(),
                system.executionContext());
    AdmissionGate gate =
        settings.concurrent() == 0
            ? null
            : new AdmissionGate(
                settings.concurrent(),
                settings.queueMaxLength(),
                settings.queueMaxWait(),
                system.classicSystem().scheduler(),
                system.executionContext());
    if (gate != null && settings.cluster().enabled()) {
      system.systemActorOf(
          ConcurrencyShare.create("--concurrent", settings.concurrent(), gate::resize),
          "concurrency-share",
          Props.empty());
    }
    int clientRpm = settings.traffic().clientRpm();
    ClientRateLimiter clientLimit =
        clientRpm == 0 ? null : new ClientRateLimiter(clientRpm, settings.traffic().clientBurst());
    if (clientLimit != null && settings.cluster().enabled()) {
      system.systemActorOf(
          ConcurrencyShare.create("client-limit.rpm", clientRpm, clientLimit::resize),
          "client-limit-share",
          Props.empty());
    }
    this.proxy = new ProxyHandler(dispatcher, settings, gate, clientLimit, traffic, materializer);
    this.agentSockets =
        new AgentSocketHandler(
            tokens,
            shared.revoked(),
            dispatcher,
            settings.inlineBodyLimit(),
            settings.cancelTimeout(),
            system.scheduler());
    this.admin =
        new AdminRoutes(
            settings.adminToken(),
            settings.traffic().statusRequiresToken(),
            config,
            tokens,
            dispatcher,
            shared,
            system,
            certificate,
            new MetricsEndpoint(dispatcher, system, settings.cluster().enabled()),
            settings.traffic().metricsRequireToken());
  }

  /**
   * Binds the port; completes once it is bound, failing when it cannot be, or with a
   * ConfigException when the descriptor limit leaves no room for connections.
   */
  public CompletionStage<Binding> bind() {
    try {
      limit = ConnectionLimit.size(settings.maxConnections(), settings.reservedDescriptors());
      if (certificate != null) {
        certificate.load();
        certificate.watch(
            system.classicSystem().scheduler(),
            system.dispatchers().lookup(DispatcherSelector.blocking()));
      }
    } catch (ConfigException e) {
      return CompletableFuture.failedStage(e);
    }
    CompletionStage<Tcp.ServerBinding> bound =
        Tcp.get(system)
            .bind(
                settings.host(),
                settings.port(),
                serverSettings.getBacklog(),
                serverSettings.getSocketOptions(),
                false,
                Optional.empty())
            // At most the limit plus a few being refused hold a descriptor: the rest wait in the
            // kernel's backlog, so accepting never runs out of descriptors.
            .mapAsyncUnordered(limit.max() + ConnectionLimit.OVERFLOW, this::accept)
            .to(Sink.ignore())
            .run(materializer);
    return bound.thenApply(
        binding -> {
          stopGracefully(binding);
          return new Binding(binding.localAddress(), limit);
        });
  }

  /**
   * On shutdown: stop accepting connections, answer waiting and new requests 503 shutting-down, and
   * give requests being served until {@code slime.hub.shutdown-grace} to finish.
   */
  private void stopGracefully(Tcp.ServerBinding binding) {
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    shutdown.addTask(
        CoordinatedShutdown.PhaseServiceUnbind(),
        "slime-unbind",
        () -> binding.unbind().thenApply(unbound -> Done.getInstance()));
    shutdown.addTask(
        CoordinatedShutdown.PhaseServiceRequestsDone(),
        "slime-drain",
        () ->
            AskPattern.<Dispatcher.Command, Done>ask(
                    dispatcher, Dispatcher.Drain::new, settings.shutdownGrace(), system.scheduler())
                .exceptionally(timedOut -> Done.getInstance())
                // A worker turns idle as its answer leaves the hub, not once the application has
                // it: let the connections finish writing what they answered before the system
                // stops.
                .thenCompose(drained -> closeConnections()));
  }

  /** Each connection closes once its answers are out; done when all are, or at the deadline. */
  private CompletionStage<Done> closeConnections() {
    List<CompletableFuture<Done>> closing = new ArrayList<>();
    for (Map.Entry<ClientConnection, CompletionStage<Done>> open : connections.entrySet()) {
      open.getKey().stop();
      closing.add(open.getValue().toCompletableFuture());
    }
    return CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new))
        .completeOnTimeout(null, FLUSH_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
        .handle((ok, failure) -> Done.getInstance());
  }

  /** Serves a new connection, or refuses it when the hub holds its limit already. */
  private CompletionStage<Done> accept(Tcp.IncomingConnection connection) {
    if (connections.size() >= limit.max()) {
      return refuse(connection);
    }
    return serve(connection).handle((ok, failure) -> Done.getInstance());
  }

  private CompletionStage<Done> refuse(Tcp.IncomingConnection connection) {
    long refused = refusals.admit();
    if (refused >= 0) {
      log.warn(
          "Refused {} connection(s): the hub holds its limit of {} (slime.hub.max-connections)",
          refused + 1,
          limit.max());
    }
    return connection
        .handleWith(
            Flow.fromSinkAndSourceMat(Sink.ignore(), Source.single(TOO_MANY), Keep.left()),
            materializer)
        .handle((ok, failure) -> Done.getInstance());
  }

  /**
   * One connection: Pekko's HTTP server layer behind the {@link HeadGuard}, whose requests the
   * handler answers one at a time. Completes when the connection has ended.
   */
  private CompletionStage<Done> serve(Tcp.IncomingConnection connection) {
    InetSocketAddress remote = connection.remoteAddress();
    ClientConnection client = new ClientConnection(remote.getAddress().getHostAddress());
    Flow<HttpRequest, HttpResponse, NotUsed> handler =
        Flow.of(HttpRequest.class)
            // Requests of this connection end when it closes, even with one still unanswered.
            .watchTermination(
                (notUsed, done) -> {
                  done.whenComplete((ok, failure) -> client.closed());
                  return notUsed;
                })
            .mapAsync(1, request -> answer(request, client));
    BidiFlow<HttpResponse, ByteString, ByteString, HttpRequest, CompletionStage<Done>> layers =
        Http.get(system)
            .serverLayer(serverSettings, Optional.of(remote), system.classicSystem().log())
            .atop(PLACEBO)
            .atop(
                BidiFlow.fromGraph(new HeadGuard(framer(), settings.clientHeadTimeout(), client)),
                (notUsed, ended) -> ended)
            .atop(tls == null ? BidiFlow.identity() : tls.connection(client.clientIp))
            .atop(BidiFlow.bidirectionalIdleTimeout(settings.clientIdleTimeout()));
    CompletionStage<Done> ended =
        connection.handleWith(handler.joinMat(layers, Keep.right()), materializer);
    connections.put(client, ended);
    ended.whenComplete((ok, failure) -> connections.remove(client));
    return ended;
  }

  private RequestFramer framer() {
    ParserSettings parsing = serverSettings.getParserSettings();
    int headBytes =
        parsing.getMaxUriLength()
            + 64
            + parsing.getMaxHeaderCount()
                * (parsing.getMaxHeaderNameLength() + parsing.getMaxHeaderValueLength() + 4);
    return new RequestFramer(
        headBytes,
        parsing.getMaxChunkSize(),
        parsing.getMaxChunkExtLength(),
        parsing.getMaxHeaderCount());
  }

  /** Request {@code n} of a connection: its refusal if the guard refused it, else its route. */
  private CompletionStage<HttpResponse> answer(HttpRequest request, ClientConnection client) {
    int n = client.arrived();
    ClientConnection.Refusal refused = client.refusalOf(n);
    if (refused != null) {
      request.discardEntityBytes(materializer);
      return CompletableFuture.completedFuture(refused.error().closingResponse(refused.reason()));
    }
    return route(request, client)
        .thenApply(
            response -> {
              client.answered(n, isSwitch(request, response));
              return response;
            });
  }

  /** Whether the answer turns the connection into an agent's WebSocket. */
  private static boolean isSwitch(HttpRequest request, HttpResponse response) {
    return response.status().intValue() == 101
        && request.getUri().path().equals(SlimeHeaders.CONNECT_PATH);
  }

  private CompletionStage<HttpResponse> route(HttpRequest request, ClientConnection client) {
    String path = request.getUri().path();
    if (!path.startsWith(SlimeHeaders.RESERVED_PREFIX)) {
      return proxy.handle(request, client);
    }
    if (path.equals(SlimeHeaders.CONNECT_PATH)) {
      return agentSockets.handle(request, client.clientIp);
    }
    if (path.startsWith(AdminRoutes.PREFIX)
        || path.equals(AdminRoutes.STATUS_PATH)
        || path.equals(MetricsEndpoint.PATH)) {
      return admin.handle(request, client.clientIp);
    }
    request.discardEntityBytes(materializer);
    return CompletableFuture.completedFuture(ProxyError.RESERVED_PATH.response());
  }

  private static ByteString rendered(ProxyError error) {
    String body = "slime: " + error.reason() + "\n";
    return ByteString.fromString(
        "HTTP/1.1 "
            + error.status()
            + " "
            + StatusCodes.get(error.status()).reason()
            + "\r\nSlime-Error: "
            + error.code()
            + "\r\nRetry-After: 1\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: "
            + body.length()
            + "\r\nConnection: close\r\n\r\n"
            + body);
  }
}
