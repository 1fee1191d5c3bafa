package io.slime.shared.log;

import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.EncoderBase;
import java.util.Locale;

/**
 * The command line's log encoder: lines of {@code pattern} by default, or one JSON object per line
 * with {@code SLIME_LOG_FORMAT=json} (logback.xml passes it as {@code format}) for log shippers.
 * JSON lines are logback's own {@link JsonEncoder}'s, without its per-line context and sequence
 * fields: {@code timestamp} (epoch ms), {@code level}, {@code threadName}, {@code loggerName},
 * {@code mdc}, {@code formattedMessage} and {@code throwable}.
 */
public final class LogEncoder extends EncoderBase<ILoggingEvent> {
  private String format = "text";
  private String pattern = "%msg%n";
  private Encoder<ILoggingEvent> delegate;

  public void setFormat(String format) {
    this.format = format;
  }

  public void setPattern(String pattern) {
    this.pattern = pattern;
  }

  @Override
  public void start() {
    String chosen = format == null ? "" : format.strip().toLowerCase(Locale.ROOT);
    if (chosen.equals("json")) {
      JsonEncoder json = new JsonEncoder();
      json.setWithSequenceNumber(false);
      json.setWithNanoseconds(false);
      json.setWithContext(false);
      json.setWithMessage(false);
      json.setWithArguments(false);
      json.setWithFormattedMessage(true);
      delegate = json;
    } else {
      if (!chosen.isEmpty() && !chosen.equals("text")) {
        addWarn("SLIME_LOG_FORMAT '" + format + "' is neither text nor json: logging text");
      }
      PatternLayoutEncoder text = new PatternLayoutEncoder();
      text.setPattern(pattern);
      delegate = text;
    }
    delegate.setContext(getContext());
    delegate.start();
    super.start();
  }

  @Override
  public void stop() {
    if (delegate != null) {
      delegate.stop();
    }
    super.stop();
  }

  @Override
  public byte[] headerBytes() {
    return delegate.headerBytes();
  }

  @Override
  public byte[] encode(ILoggingEvent event) {
    return delegate.encode(event);
  }

  @Override
  public byte[] footerBytes() {
    return delegate.footerBytes();
  }
}
