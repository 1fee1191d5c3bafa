package io.slime.hub.tls;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the hub tells about the certificate it serves: never anything of its key. */
public record CertificateSummary(String subject, String issuer, String serial, Instant notAfter) {

  /** As the reload endpoint answers it. */
  public Map<String, Object> json() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("subject", subject);
    out.put("issuer", issuer);
    out.put("serial", serial);
    out.put("notAfter", notAfter.toString());
    return out;
  }

  /** As the log shows it. */
  @Override
  public String toString() {
    return "subject '" + subject + "', serial " + serial + ", expires " + notAfter;
  }
}
