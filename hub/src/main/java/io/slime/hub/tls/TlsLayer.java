package io.slime.hub.tls;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.Scheduler;
import org.apache.pekko.japi.function.Function2;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.TLSClosing;
import org.apache.pekko.stream.TLSProtocol.SendBytes;
import org.apache.pekko.stream.TLSProtocol.SessionBytes;
import org.apache.pekko.stream.TLSProtocol.SslTlsInbound;
import org.apache.pekko.stream.TLSProtocol.SslTlsOutbound;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.TLS;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.concurrent.ExecutionContext;

/**
 * TLS for one connection of the hub's port, as a layer of plain bytes over encrypted bytes:
 *
 * <pre>
 *  HeadGuard ──plain──▶ ┌──────────┐ ──TLS records──▶ TCP
 *            ◀─plain─── │ TlsLayer │ ◀─TLS records──
 *                       └──────────┘
 * </pre>
 *
 * It sits below the head guard, so the guard checks decrypted requests exactly as it checks a plain
 * port's, for applications and agents alike. The engine is taken from the certificate current when
 * the connection opens. A handshake must end within the head timeout, else the connection closes,
 * as a request head must arrive within it.
 */
public final class TlsLayer {
  private static final Logger log = LoggerFactory.getLogger(TlsLayer.class);

  private final ServerCertificate certificate;
  private final Duration handshakeTimeout;
  private final Scheduler scheduler;
  private final ExecutionContext executor;

  public TlsLayer(
      ServerCertificate certificate,
      Duration handshakeTimeout,
      Scheduler scheduler,
      ExecutionContext executor) {
    this.certificate = certificate;
    this.handshakeTimeout = handshakeTimeout;
    this.scheduler = scheduler;
    this.executor = executor;
  }

  /** The layer of one new connection from {@code clientIp}. */
  public BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> connection(
      String clientIp) {
    AtomicBoolean established = new AtomicBoolean();
    SharedKillSwitch cut = KillSwitches.shared("tls-handshake");
    Cancellable deadline =
        scheduler.scheduleOnce(
            handshakeTimeout,
            () -> {
              if (!established.get()) {
                cut.abort(new SSLHandshakeException("no TLS handshake within " + handshakeTimeout));
              }
            },
            executor);
    BidiFlow<SslTlsOutbound, ByteString, ByteString, SslTlsInbound, NotUsed> tls =
        TLS.create(
            certificate::newEngine,
            session -> {
              established.set(true);
              deadline.cancel();
            },
            TLSClosing.eagerClose());
    // Pekko's TLS stage ends both sides without the engine's reason when a handshake fails, so
    // what went wrong is told from the first byte the client sent: a TLS handshake record is 0x16.
    AtomicInteger firstByte = new AtomicInteger(-1);
    AtomicBoolean logged = new AtomicBoolean();
    Consumer<Throwable> ended =
        failure -> {
          deadline.cancel();
          // A connection that sent nothing is a port probe, not worth a line.
          if (!established.get() && firstByte.get() != -1 && logged.compareAndSet(false, true)) {
            log.warn(
                "TLS handshake with {} failed: {}", clientIp, reason(firstByte.get(), failure));
          }
        };
    Flow<SslTlsInbound, ByteString, NotUsed> decrypted =
        Flow.of(SslTlsInbound.class)
            // SessionTruncated (the peer closed without close_notify) carries no bytes.
            .collectType(SessionBytes.class)
            .map(SessionBytes::bytes);
    Flow<ByteString, ByteString, NotUsed> received =
        Flow.of(ByteString.class)
            .map(
                bytes -> {
                  if (!bytes.isEmpty()) {
                    firstByte.compareAndSet(-1, bytes.head() & 0xff);
                  }
                  return bytes;
                })
            .watchTermination(watch(ended));
    return BidiFlow.fromFlows(
            Flow.of(ByteString.class).map(bytes -> (SslTlsOutbound) new SendBytes(bytes)),
            decrypted)
        .atop(tls)
        .atop(BidiFlow.fromFlows(Flow.of(ByteString.class), received))
        .atop(BidiFlow.fromFlows(cut.flow(), cut.flow()));
  }

  private static Function2<NotUsed, CompletionStage<Done>, NotUsed> watch(
      Consumer<Throwable> ended) {
    return (notUsed, done) -> {
      done.whenComplete((ok, failure) -> ended.accept(unwrapped(failure)));
      return notUsed;
    };
  }

  private static Throwable unwrapped(Throwable failure) {
    Throwable t = failure;
    while (t != null && !(t instanceof SSLException) && t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }

  private static String reason(int firstByte, Throwable failure) {
    if (firstByte != 0x16) {
      return "the client does not speak TLS (plain HTTP to the TLS port?)";
    }
    if (failure != null && failure.getMessage() != null) {
      return failure.getMessage();
    }
    return "the client broke off the handshake (does it trust the hub's certificate?)";
  }
}
