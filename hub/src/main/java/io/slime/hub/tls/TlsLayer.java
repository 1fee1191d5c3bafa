package io.slime.hub.tls;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.Scheduler;
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
    Flow<SslTlsInbound, ByteString, NotUsed> decrypted =
        Flow.of(SslTlsInbound.class)
            .watchTermination(
                (notUsed, done) -> {
                  done.whenComplete(
                      (ok, failure) -> {
                        deadline.cancel();
                        if (failure != null && !established.get()) {
                          log.warn("TLS handshake with {} failed: {}", clientIp, reason(failure));
                        }
                      });
                  return notUsed;
                })
            // SessionTruncated (the peer closed without close_notify) carries no bytes.
            .collectType(SessionBytes.class)
            .map(SessionBytes::bytes);
    return BidiFlow.fromFlows(
            Flow.of(ByteString.class).map(bytes -> (SslTlsOutbound) new SendBytes(bytes)),
            decrypted)
        .atop(tls)
        .atop(BidiFlow.fromFlows(cut.flow(), cut.flow()));
  }

  private static String reason(Throwable failure) {
    Throwable t = failure;
    while (!(t instanceof SSLException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
