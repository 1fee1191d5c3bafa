package io.slime.hub.http;

import com.typesafe.config.Config;
import io.slime.hub.Guardian;
import io.slime.hub.admin.AdminApi;
import io.slime.hub.limit.ClientRateLimiter;
import io.slime.hub.stats.TrafficStats;
import io.slime.hub.cluster.ConcurrencyShare;
import io.slime.hub.cluster.SharedState;
import org.apache.pekko.actor.typed.Props;
import io.slime.hub.HubSettings;
import io.slime.hub.dispatch.Dispatcher;
import io.slime.shared.protocol.SlimeHeaders;
import io.slime.shared.token.TokenCodec;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.IncomingConnection;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * The hub's one port: applications and agents alike. Binds with Pekko HTTP's connection-level API
 * so each connection's end is seen: a request still waiting when its connection closes has lost
 * its application, and leaves the queue or has its upstream call cancelled.
 */
public final class FrontDoor {
  /** How long answers already given may take to reach their applications when the hub stops. */
  public static final java.time.Duration FLUSH_DEADLINE = java.time.Duration.ofSeconds(2);

  private final ActorSystem<?> system;
  private final HubSettings settings;
  private final Materializer materializer;
  private final ProxyHandler proxy;
  private final AgentSocketHandler agentSockets;
  private final AdminApi admin;
  private final ActorRef<Dispatcher.Command> dispatcher;

  /** {@code config} is the whole merged configuration, for the admin API's view of it. */
  public FrontDoor(
      ActorSystem<?> system,
      HubSettings settings,
      Config config,
      TokenCodec tokens,
      SharedState shared,
      ActorRef<Dispatcher.Command> dispatcher,
      TrafficStats traffic,
      ActorRef<Guardian.Command> guardian) {
    this.system = system;
    this.settings = settings;
    this.materializer = Materializer.matFromSystem(system);
    this.dispatcher = dispatcher;
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
        new AgentSocketHandler(tokens, shared.revoked(), guardian, dispatcher, system.scheduler());
    this.admin =
        new AdminApi(
            settings.adminToken(),
            settings.traffic().statusRequiresToken(),
            config,
            tokens,
            dispatcher,
            shared,
            system);
  }

  public CompletionStage<ServerBinding> bind() {
    CompletionStage<ServerBinding> binding =
        Http.get(system)
            .newServerAt(settings.host(), settings.port())
            .connectionSource()
            .toMat(Sink.foreach(this::serve), Keep.left())
            .run(materializer);
    return binding.thenApply(
        bound -> {
          stopGracefully(bound);
          return bound;
        });
  }

  /**
   * On shutdown: stop accepting connections, answer waiting and new requests 503 shutting-down,
   * and give requests being served until {@code slime.hub.shutdown-grace} to finish.
   */
  private void stopGracefully(ServerBinding binding) {
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    shutdown.addTask(
        CoordinatedShutdown.PhaseServiceUnbind(), "slime-unbind", () -> binding.unbind());
    shutdown.addTask(
        CoordinatedShutdown.PhaseServiceRequestsDone(),
        "slime-drain",
        () ->
            AskPattern.<Dispatcher.Command, Done>ask(
                    dispatcher, Dispatcher.Drain::new, settings.shutdownGrace(), system.scheduler())
                .exceptionally(timedOut -> Done.getInstance())
                // A worker turns idle as its answer leaves the hub, not once the application has
                // it: let the server finish writing what it answered before the system stops.
                .thenCompose(drained -> binding.terminate(FLUSH_DEADLINE))
                .thenApply(terminated -> Done.getInstance()));
  }

  private void serve(IncomingConnection connection) {
    ClientConnection client =
        new ClientConnection(connection.remoteAddress().getAddress().getHostAddress());
    connection.handleWith(
        Flow.of(HttpRequest.class)
            // Requests of this connection end when it closes, even with one still unanswered.
            .watchTermination(
                (notUsed, done) -> {
                  done.whenComplete((ok, failure) -> client.closed());
                  return notUsed;
                })
            .mapAsync(1, request -> route(request, client)),
        materializer);
  }

  private CompletionStage<HttpResponse> route(HttpRequest request, ClientConnection client) {
    String path = request.getUri().path();
    if (!path.startsWith(SlimeHeaders.RESERVED_PREFIX)) {
      return proxy.handle(request, client);
    }
    if (path.equals(SlimeHeaders.CONNECT_PATH)) {
      return agentSockets.handle(request, client.clientIp);
    }
    if (path.startsWith(AdminApi.PREFIX)) {
      return admin.handle(request, client.clientIp);
    }
    if (path.equals(AdminApi.STATUS_PATH)) {
      return admin.status(request, client.clientIp);
    }
    request.discardEntityBytes(materializer);
    return CompletableFuture.completedFuture(ProxyError.RESERVED_PATH.response());
  }
}
