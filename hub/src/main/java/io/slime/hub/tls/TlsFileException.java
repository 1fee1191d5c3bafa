package io.slime.hub.tls;

import java.nio.file.Path;

/** A certificate or key file the hub cannot use, and why: both go into one log line. */
public final class TlsFileException extends Exception {
  private final transient Path file;
  private final String reason;

  public TlsFileException(Path file, String reason) {
    super(file + ": " + reason);
    this.file = file;
    this.reason = reason;
  }

  public Path file() {
    return file;
  }

  public String reason() {
    return reason;
  }
}
