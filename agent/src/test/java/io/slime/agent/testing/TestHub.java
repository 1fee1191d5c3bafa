package io.slime.agent.testing;

import io.slime.shared.agent.AgentReport;
import io.slime.shared.protocol.Frame;
import io.slime.shared.protocol.SlimeHeaders;
import io.slime.shared.stream.FrameTransport;
import io.slime.shared.stream.InboundEvent;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * A small real hub for agent tests: accepts worker WebSockets on /_slime/connect when the token
 * header matches (401 with a reason otherwise), and hands each connection to the test as a {@link
 * Worker} that sends frames, reads what the agent answers, and keeps the upgrade's headers and the
 * agent's reports.
 */
public final class TestHub extends AllDirectives implements AutoCloseable {
  private final ActorSystem<?> system;
  private final String token;
  private final ServerBinding binding;
  private final Map<String, BlockingQueue<Worker>> connections = new ConcurrentHashMap<>();
  private final Set<String> refusedAgents = ConcurrentHashMap.newKeySet();
  private final Map<String, AtomicInteger> refusals = new ConcurrentHashMap<>();

  public TestHub(ActorSystem<?> system, String token) throws Exception {
    this.system = system;
    this.token = token;
    this.binding =
        Http.get(system)
            .newServerAt("127.0.0.1", 0)
            .bind(route())
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
  }

  public String address() {
    return "127.0.0.1:" + binding.localAddress().getPort();
  }

  /** Answers 401 to this agent id until {@link #accept} is called. */
  public void refuse(String agentId) {
    refusedAgents.add(agentId);
  }

  public void accept(String agentId) {
    refusedAgents.remove(agentId);
  }

  public int refusals(String agentId) {
    return refusals.computeIfAbsent(agentId, k -> new AtomicInteger()).get();
  }

  /** The next connection of this worker not yet taken by the test; waits for it. */
  public Worker nextConnection(String agentId, int index, Duration timeout) throws Exception {
    Worker w = queue(agentId, index).poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (w == null) {
      throw new AssertionError(
          "no connection from " + agentId + "/" + index + " within " + timeout);
    }
    // Frames can be queued only once the upgrade has run the flow.
    w.transport.opened().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    return w;
  }

  private BlockingQueue<Worker> queue(String agentId, int index) {
    return connections.computeIfAbsent(agentId + "/" + index, k -> new LinkedBlockingQueue<>());
  }

  private Route route() {
    return path(
        PathMatchers.segment("_slime").slash("connect"), () -> extractRequest(this::connect));
  }

  private Route connect(HttpRequest request) {
    return optionalHeaderValueByName(
        SlimeHeaders.AGENT_TOKEN,
        presented ->
            headerValueByName(
                SlimeHeaders.AGENT_ID,
                agentId ->
                    headerValueByName(
                        SlimeHeaders.WORKER_INDEX,
                        index -> {
                          if (!presented.orElse("").equals(token)) {
                            return complete(StatusCodes.UNAUTHORIZED, "invalid agent token");
                          }
                          if (refusedAgents.contains(agentId)) {
                            refusals
                                .computeIfAbsent(agentId, k -> new AtomicInteger())
                                .incrementAndGet();
                            return complete(StatusCodes.UNAUTHORIZED, "agent token expired\nmore");
                          }
                          Worker worker = new Worker(system, headers(request));
                          queue(agentId, Integer.parseInt(index)).add(worker);
                          return handleWebSocketMessages(worker.transport.flow());
                        })));
  }

  private static Map<String, String> headers(HttpRequest request) {
    Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    for (HttpHeader header : request.getHeaders()) {
      headers.put(header.name(), header.value());
    }
    return headers;
  }

  @Override
  public void close() {
    binding.unbind();
  }

  /** What the agent answered for one exchange. */
  public record Result(Frame.ResponseStart head, ByteString body, Frame.Failure failure) {
    public String text() {
      return body.utf8String();
    }

    public String header(String name) {
      return head.headers().stream()
          .filter(h -> h.name().equalsIgnoreCase(name))
          .map(h -> h.value())
          .findFirst()
          .orElse(null);
    }
  }

  /** One worker connection, seen from the hub. */
  public static final class Worker {
    final FrameTransport transport;
    private final ActorSystem<?> system;
    private final Map<String, String> headers;
    private final BlockingQueue<InboundEvent> events = new LinkedBlockingQueue<>();
    private final BlockingQueue<AgentReport> reports = new LinkedBlockingQueue<>();
    private int exchange;

    Worker(ActorSystem<?> system, Map<String, String> headers) {
      this.system = system;
      this.headers = headers;
      this.transport = FrameTransport.create(this::onEvent, system);
    }

    /** Reports go to their own queue, so tests of exchanges never see them. */
    private void onEvent(InboundEvent event) {
      if (event instanceof InboundEvent.Notice notice
          && notice.frame() instanceof Frame.Report report) {
        reports.add(AgentReport.fromJson(report.json()));
      } else {
        events.add(event);
      }
    }

    /** The next report the agent sent on this connection; waits for it. */
    public AgentReport nextReport(Duration timeout) throws InterruptedException {
      AgentReport report = reports.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (report == null) {
        throw new AssertionError("no report from the agent within " + timeout);
      }
      return report;
    }

    /** The first report from now on that {@code wanted} accepts, skipping the others. */
    public AgentReport awaitReport(Predicate<AgentReport> wanted, Duration timeout)
        throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      List<AgentReport> skipped = new java.util.ArrayList<>();
      while (System.nanoTime() < deadline) {
        AgentReport report =
            reports.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (report != null && wanted.test(report)) {
          return report;
        }
        if (report != null) {
          skipped.add(report);
        }
      }
      throw new AssertionError("no such report within " + timeout + "; got " + skipped);
    }

    /** A header of the worker's upgrade request (any case), or null. */
    public String header(String name) {
      return headers.get(name);
    }

    public int nextExchange() {
      return ++exchange;
    }

    public void send(Frame... frames) {
      transport.send(Source.from(List.of(frames)));
    }

    /** A request whose body streams after its head, in BodyChunk frames. */
    public void sendStreamed(Frame.RequestStart head, Source<ByteString, ?> body) {
      int n = head.exchange();
      transport.send(
          Source.<Frame>single(head)
              .concat(body.map(b -> (Frame) new Frame.BodyChunk(n, b, false)))
              .concat(Source.single(new Frame.BodyChunk(n, ByteString.emptyByteString(), true))));
    }

    public void close() {
      transport.close();
    }

    public InboundEvent nextEvent(Duration timeout) throws InterruptedException {
      InboundEvent e = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (e == null) {
        throw new AssertionError("no frame from the agent within " + timeout);
      }
      return e;
    }

    /** No event at all arrives within {@code quiet} (for example no Closed). */
    public InboundEvent pollEvent(Duration quiet) throws InterruptedException {
      return events.poll(quiet.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Waits for the agent's answer to exchange {@code n}, reading a streamed body whole. */
    public Result await(int n, Duration timeout) throws Exception {
      long deadline = System.nanoTime() + timeout.toNanos();
      Frame.ResponseStart head = null;
      ByteString body = null;
      while (true) {
        InboundEvent e = nextEvent(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        if (e instanceof InboundEvent.Started s && s.start().exchange() == n) {
          head = (Frame.ResponseStart) s.start();
          if (s.body() == null) {
            return new Result(head, head.body(), null);
          }
          try {
            body =
                s.body()
                    .runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), system)
                    .toCompletableFuture()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return new Result(head, head.body().concat(body), null);
          } catch (java.util.concurrent.ExecutionException failed) {
            // The body broke off: the Failure frame follows as a Signal.
          }
        } else if (e instanceof InboundEvent.Signal s
            && s.frame() instanceof Frame.Failure f
            && f.exchange() == n) {
          return new Result(head, ByteString.emptyByteString(), f);
        } else if (e instanceof InboundEvent.Closed c) {
          throw new AssertionError(
              "connection closed while waiting for exchange " + n, c.failure());
        }
      }
    }
  }
}
