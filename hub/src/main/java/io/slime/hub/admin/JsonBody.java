package io.slime.hub.admin;

import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.slime.hub.model.ProxyError;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.marshallers.jackson.Jackson;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.MalformedRequestContentRejection;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.server.ValidationRejection;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * Request bodies of the admin API: read as records by Jackson whatever their Content-Type says
 * (curl's {@code -d} sends a form's), at most 64 KiB, and every way one can be wrong answered 400
 * bad-request with the reason; or, on the endpoints that take none, dropped unread.
 */
final class JsonBody {
  static final long MAX_BYTES = 64 * 1024;

  /**
   * What a body must look like, told to an operator who sent another.
   *
   * @param expected the answer to a body that is not the object expected
   * @param fields how to name the fields allowed, after an unknown one
   */
  record Shape(String expected, String fields) {}

  private JsonBody() {}

  /**
   * Reads the body as a {@code type} (null for a JSON {@code null}) for {@code inner}, or answers
   * 400. The whole body is parsed before it is bound, so a body that is not JSON is told so even
   * when it starts with an unknown field.
   */
  static <T> Route read(Class<T> type, Shape shape, Function<T, Route> inner) {
    Unmarshaller<HttpEntity, T> unmarshaller =
        Unmarshaller.entityToByteString()
            .flatMap(Jackson.byteStringUnmarshaller(AdminJson.MAPPER, JsonNode.class))
            .thenApply(tree -> AdminJson.MAPPER.convertValue(tree, type));
    RejectionHandler refusal =
        RejectionHandler.newBuilder()
            .handle(
                MalformedRequestContentRejection.class,
                rejected -> bad(problem(rejected.getCause(), shape)))
            .handle(
                ValidationRejection.class,
                rejected -> bad(problem(rejected.getCause().orElse(null), shape)))
            .build();
    return Directives.withSizeLimit(
        MAX_BYTES,
        () -> Directives.handleRejections(refusal, () -> Directives.entity(unmarshaller, inner)));
  }

  /** Drops the body unread, so the connection goes on, then answers with {@code inner}. */
  static Route discarded(Supplier<Route> inner) {
    return Directives.extractMaterializer(
        materializer ->
            Directives.extractRequestEntity(
                entity -> {
                  entity.discardBytes(materializer);
                  return inner.get();
                }));
  }

  static Route bad(String detail) {
    return AdminJson.error(ProxyError.BAD_REQUEST, detail);
  }

  /** Why a body could not be read as {@code shape}, from the first cause that tells. */
  private static String problem(Throwable failure, Shape shape) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof UnrecognizedPropertyException unknown) {
        return "unknown field '" + unknown.getPropertyName() + "'; " + shape.fields();
      }
      if (cause instanceof MismatchedInputException) {
        return shape.expected();
      }
      if (cause instanceof StreamReadException) {
        return "the body is not JSON";
      }
    }
    return "could not read the body: " + (failure == null ? "" : failure.getMessage());
  }
}
