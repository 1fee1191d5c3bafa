package io.slime.cli;

/** The user asked for something that cannot run: missing or invalid settings. Exit code 2. */
public final class UsageException extends RuntimeException {

  public UsageException(String message) {
    super(message, null, false, false);
  }
}
