package io.slime.hub.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.slime.hub.model.ProxyError;
import java.util.List;
import org.apache.pekko.http.javadsl.marshallers.jackson.Jackson;
import org.apache.pekko.http.javadsl.marshalling.Marshaller;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;

/** How the admin API writes JSON: its views, and its errors with their {@code Slime-Error}. */
final class AdminJson {
  static final ObjectMapper MAPPER =
      JsonMapper.builder().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS).build();

  private static final Marshaller<Object, RequestEntity> MARSHALLER = Jackson.marshaller(MAPPER);

  private AdminJson() {}

  /** 200 with {@code view} as JSON. */
  static Route ok(Object view) {
    return Directives.completeOK(view, MARSHALLER);
  }

  /**
   * An error the admin API answers itself: the error's status, its code in {@code Slime-Error} and
   * in the body's {@code error}, and {@code detail} saying why.
   */
  static Route error(ProxyError error, String detail) {
    return answer(error, new AdminViews.Error(error.code(), detail));
  }

  /**
   * An error with a body of its own: the error's status and {@code Slime-Error}, and {@code view}.
   */
  static Route answer(ProxyError error, Object view) {
    return Directives.complete(
        StatusCodes.get(error.status()), List.of(error.header()), view, MARSHALLER);
  }
}
