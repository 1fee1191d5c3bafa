package io.slime.shared.protocol;

/** One HTTP header field as it travels between hub and agent. */
public record Header(String name, String value) {}
