package io.slime.agent.monitor;

import io.slime.agent.connection.HubConnection;
import io.slime.agent.settings.AgentSettings;
import io.slime.agent.upstream.ResponseFrames;
import io.slime.agent.upstream.UpstreamConnection;
import io.slime.agent.upstream.UpstreamRequests;
import io.slime.shared.SlimeVersion;
import io.slime.shared.agent.AgentReport;
import io.slime.shared.net.ServiceAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Connection;
import org.apache.pekko.http.javadsl.model.headers.ProductVersion;
import org.apache.pekko.http.javadsl.model.headers.UserAgent;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.stream.Materializer;

/**
 * Watches one agent's upstream and machine, and tells the agent's workers, which pass it on to the
 * hub as {@link AgentReport}s.
 *
 * <p>Health: with {@code slime.agent.health-check.path} set, it GETs that path on the upstream
 * every interval, on a connection of its own (never a worker's, so checks neither wait behind nor
 * disturb requests), and judges the answers with {@link Health}; without a path the upstream counts
 * as healthy and nothing is checked. Load: every {@code report-interval} it samples the machine
 * with {@link LoadProbe} on the blocking dispatcher, since that reads files and runs nvidia-smi.
 *
 * <p>It tells every worker ({@link HubConnection}) of its agent the current report when it starts,
 * at once on every change of health, and after each load sample. One check and one sample are in
 * flight at most: the next is scheduled when the previous ended. Started by the agents' guardian,
 * one per agent, with that agent's workers; it stops with the actor system.
 */
public final class AgentMonitor extends AbstractBehavior<AgentMonitor.Command> {

  public sealed interface Command {}

  private enum CheckTick implements Command {
    INSTANCE
  }

  private record WrappedCheck(int check, HttpResponse response, Throwable failure)
      implements Command {}

  private record CheckTimedOut(int check) implements Command {}

  private enum ProbeTick implements Command {
    INSTANCE
  }

  private record WrappedSample(LoadProbe.Sample sample, Throwable failure) implements Command {}

  private static final LoadProbe.Sample NOTHING_MEASURED =
      new LoadProbe.Sample(null, null, null, List.of(), null);

  private final TimerScheduler<Command> timers;
  private final AgentSettings.HealthCheck healthCheck;
  private final Duration reportInterval;
  private final String agentId;
  private final String upstreamName;
  private final List<ActorRef<HubConnection.Command>> workers;
  private final LoadProbe probe;
  private final Executor blocking;
  private final Materializer materializer;
  // Only with a health check path:
  private final UpstreamConnection connection;
  private final HttpRequest check;
  private final String checkName;

  private Health health;
  private int checks;
  private int pendingCheck;
  private ProcFiles.CpuTimes previousCpu;
  private LoadProbe.Sample load = NOTHING_MEASURED;
  private Double cpuPercent;
  private String gpuProblem;

  private AgentMonitor(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      AgentSettings settings,
      String agentId,
      ServiceAddress upstream,
      List<ActorRef<HubConnection.Command>> workers,
      LoadProbe probe) {
    super(context);
    // Named here: found from the stack, a first line logged on a timer's message names ActorCell.
    context.setLoggerName(AgentMonitor.class);
    this.timers = timers;
    this.healthCheck = settings.healthCheck();
    this.reportInterval = settings.reportInterval();
    this.agentId = agentId;
    this.upstreamName = upstream.toString();
    this.workers = List.copyOf(workers);
    this.probe = probe;
    this.blocking = context.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    this.materializer = Materializer.matFromSystem(context.getSystem());
    if (healthCheck.enabled()) {
      ClientConnectionSettings connectionSettings =
          ClientConnectionSettings.create(context.getSystem().classicSystem())
              .withConnectingTimeout(settings.upstreamConnectingTimeout())
              // Lets the upstream tell checks from traffic in its logs.
              .withUserAgentHeader(
                  Optional.of(
                      UserAgent.create(ProductVersion.create("slime-agent", SlimeVersion.get()))));
      this.connection = new UpstreamConnection(upstream, connectionSettings, context.getSystem());
      // A new connection per check: no kept-alive connection that the upstream closes as a check
      // goes out (a false failure), and each check also proves the upstream still accepts one.
      this.check =
          new UpstreamRequests(upstream)
              .get(healthCheck.path())
              .addHeader(Connection.create("close"));
      this.checkName = "GET " + upstream.basePath() + healthCheck.path();
      this.health = Health.WAITING;
      context.getSelf().tell(CheckTick.INSTANCE);
    } else {
      this.connection = null;
      this.check = null;
      this.checkName = null;
      this.health = Health.HEALTHY;
    }
    context.getSelf().tell(ProbeTick.INSTANCE);
    // Before the first sample: the hub learns the health now, the load a moment later.
    publish();
  }

  /**
   * @param workers the agent's workers, told each new report
   */
  public static Behavior<Command> create(
      AgentSettings settings,
      String agentId,
      ServiceAddress upstream,
      List<ActorRef<HubConnection.Command>> workers) {
    return create(settings, agentId, upstream, workers, LoadProbe.ofThisMachine());
  }

  static Behavior<Command> create(
      AgentSettings settings,
      String agentId,
      ServiceAddress upstream,
      List<ActorRef<HubConnection.Command>> workers,
      LoadProbe probe) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new AgentMonitor(
                        context, timers, settings, agentId, upstream, workers, probe)));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(CheckTick.INSTANCE, this::onCheckTick)
        .onMessage(WrappedCheck.class, this::onCheck)
        .onMessage(CheckTimedOut.class, this::onCheckTimedOut)
        .onMessageEquals(ProbeTick.INSTANCE, this::onProbeTick)
        .onMessage(WrappedSample.class, this::onSample)
        .onSignal(PostStop.class, signal -> onStop())
        .build();
  }

  // ---- health ----

  private Behavior<Command> onCheckTick() {
    int n = ++checks;
    pendingCheck = n;
    getContext()
        .pipeToSelf(
            connection.send(check).response(),
            (response, failure) -> new WrappedCheck(n, response, failure));
    timers.startSingleTimer(CheckTimedOut.class, new CheckTimedOut(n), healthCheck.timeout());
    return this;
  }

  private Behavior<Command> onCheck(WrappedCheck m) {
    if (m.check() != pendingCheck) {
      discard(m.response()); // it timed out already
      return this;
    }
    pendingCheck = 0;
    timers.cancel(CheckTimedOut.class);
    if (m.failure() != null) {
      return judge(false, checkName + " failed: " + ResponseFrames.describe(m.failure()));
    }
    discard(m.response());
    int status = m.response().status().intValue();
    return judge(status >= 200 && status < 400, checkName + " answered " + status);
  }

  private Behavior<Command> onCheckTimedOut(CheckTimedOut m) {
    if (m.check() != pendingCheck) {
      return this;
    }
    pendingCheck = 0;
    // Cuts the connection, so a hung upstream costs no more than one connection.
    connection.abort("health check timed out");
    return judge(false, checkName + " timed out after " + brief(healthCheck.timeout()));
  }

  private Behavior<Command> judge(boolean passed, String result) {
    Health before = health;
    health =
        passed
            ? before.afterSuccess(healthCheck.healthyAfter())
            : before.afterFailure(result, healthCheck.unhealthyAfter());
    if (health.healthy() && !before.healthy()) {
      getContext()
          .getLog()
          .info(
              "Agent [{}] upstream {} passes its health check: {}", agentId, upstreamName, result);
    } else if (!health.healthy() && (before.healthy() || before.waiting())) {
      getContext()
          .getLog()
          .warn("Agent [{}] upstream {} is unhealthy: {}", agentId, upstreamName, result);
    } else {
      getContext().getLog().debug("Agent [{}] health check: {}", agentId, result);
    }
    if (health.differsFrom(before)) {
      publish();
    }
    timers.startSingleTimer(CheckTick.INSTANCE, healthCheck.interval());
    return this;
  }

  // ---- load ----

  private Behavior<Command> onProbeTick() {
    getContext()
        .pipeToSelf(CompletableFuture.supplyAsync(probe::sample, blocking), WrappedSample::new);
    return this;
  }

  private Behavior<Command> onSample(WrappedSample m) {
    if (m.failure() != null) {
      getContext().getLog().debug("Agent [{}] could not sample the load", agentId, m.failure());
    }
    load = m.sample() != null ? m.sample() : NOTHING_MEASURED;
    cpuPercent = ProcFiles.cpuPercent(previousCpu, load.cpu());
    previousCpu = load.cpu();
    if (!Objects.equals(gpuProblem, load.gpuProblem())) {
      gpuProblem = load.gpuProblem();
      if (gpuProblem != null) {
        getContext().getLog().warn("Agent [{}] cannot read its GPUs: {}", agentId, gpuProblem);
      }
    }
    publish();
    timers.startSingleTimer(ProbeTick.INSTANCE, reportInterval);
    return this;
  }

  // ---- both ----

  private void publish() {
    AgentReport report =
        new AgentReport(
            health.healthy(),
            health.detail(),
            cpuPercent,
            load.memoryPercent(),
            load.load1(),
            load.gpus());
    for (ActorRef<HubConnection.Command> worker : workers) {
      worker.tell(new HubConnection.NewReport(report));
    }
  }

  private Behavior<Command> onStop() {
    if (connection != null) {
      connection.abort("agent stopping");
    }
    return this;
  }

  private void discard(HttpResponse response) {
    if (response != null) {
      response.discardEntityBytes(materializer);
    }
  }

  /** 2s, 1500ms: as the settings are usually written. */
  static String brief(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }
}
