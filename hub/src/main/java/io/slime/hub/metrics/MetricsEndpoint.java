package io.slime.hub.metrics;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.slime.hub.dispatch.Dispatcher;
import io.slime.hub.dispatch.NodeView;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * {@code GET /_slime/metrics}: this node's pool and traffic in the Prometheus text format, with the
 * JVM's and the process's own metrics. Each node exports its own view; Prometheus adds them up.
 * Nothing is counted for it on the request path: a scrape reads the counters the hub keeps anyway.
 */
public final class MetricsEndpoint {
  public static final String PATH = "/_slime/metrics";
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);
  private static final ContentType TEXT =
      ContentTypes.parse(PrometheusTextFormatWriter.CONTENT_TYPE);

  private final ActorRef<Dispatcher.Command> dispatcher;
  private final ActorSystem<?> system;
  private final boolean clustered;
  private final PrometheusRegistry jvm = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

  public MetricsEndpoint(
      ActorRef<Dispatcher.Command> dispatcher, ActorSystem<?> system, boolean clustered) {
    this.dispatcher = dispatcher;
    this.system = system;
    this.clustered = clustered;
    JvmMetrics.builder().register(jvm);
  }

  public CompletionStage<HttpResponse> scrape() {
    return AskPattern.<Dispatcher.Command, NodeView>ask(
            dispatcher, Dispatcher.GetNodeView::new, ASK_TIMEOUT, system.scheduler())
        .thenApply(view -> HttpResponse.create().withEntity(TEXT, render(view)));
  }

  private byte[] render(NodeView view) {
    List<MetricSnapshot> all = new ArrayList<>(PoolMetrics.of(view, members()));
    jvm.scrape().forEach(all::add);
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
    try {
      writer.write(out, new MetricSnapshots(all), EscapingScheme.ALLOW_UTF8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** The cluster's members by status, as this node sees them; a hub alone is one member, up. */
  private Map<String, Integer> members() {
    if (!clustered) {
      return Map.of("up", 1);
    }
    Map<String, Integer> byStatus = new TreeMap<>();
    for (Member member : Cluster.get(system).state().getMembers()) {
      byStatus.merge(
          member.status().toString().toLowerCase(java.util.Locale.ROOT), 1, Integer::sum);
    }
    return byStatus;
  }
}
