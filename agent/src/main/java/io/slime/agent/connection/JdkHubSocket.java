package io.slime.agent.connection;

import io.slime.shared.protocol.FrameCodec;
import io.slime.shared.protocol.ProtocolException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.ws.BinaryMessage;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SinkShape;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * A worker's WebSocket to the hub on the JDK's {@code java.net.http} client, running a Pekko flow
 * of messages. On this path the JDK client costs less per message than Pekko HTTP's (see
 * bench/RESULTS.md). Inbound messages are read one at a time as the flow asks for them ({@link
 * WebSocket#request}), and each outbound message is sent only when the previous one is out, so
 * backpressure holds both ways.
 */
final class JdkHubSocket {
  /** How long a closing socket waits for queued frames to leave before it is cut. */
  private static final Duration CLOSE_GRACE = Duration.ofSeconds(5);

  private final Inbound inbound = new Inbound();
  private WebSocket socket;

  private JdkHubSocket() {}

  /**
   * Starts the upgrade; fails with {@link java.net.http.WebSocketHandshakeException} on refusal.
   */
  static CompletableFuture<JdkHubSocket> open(
      HttpClient client, URI uri, Map<String, String> headers, Duration timeout) {
    JdkHubSocket hubSocket = new JdkHubSocket();
    WebSocket.Builder builder = client.newWebSocketBuilder().connectTimeout(timeout);
    headers.forEach(builder::header);
    return builder
        .buildAsync(uri, hubSocket.inbound)
        .thenApply(
            webSocket -> {
              hubSocket.socket = webSocket;
              return hubSocket;
            });
  }

  /** Runs {@code flow} over the socket, once: its output is sent, the socket's input feeds it. */
  void run(Flow<Message, Message, NotUsed> flow, Materializer materializer) {
    Source.fromGraph(new InboundStage())
        .map(bytes -> (Message) BinaryMessage.create(bytes))
        .via(flow)
        .runWith(Sink.fromGraph(new OutboundStage()), materializer);
  }

  /** Cuts the connection now, without a close handshake. */
  void abort() {
    socket.abort();
  }

  private void abortLater() {
    CompletableFuture.delayedExecutor(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS)
        .execute(socket::abort);
  }

  /**
   * Receives the JDK's callbacks, which are serialized, and hands each whole message to the stage.
   * Nothing is requested until the stage pulls, so only the end of input can come before it runs.
   */
  private static final class Inbound implements WebSocket.Listener {
    private ByteStringBuilder partial;
    private AsyncCallback<Object> toStage;
    private Object earlyEnd;

    @Override
    public void onOpen(WebSocket webSocket) {
      // Reading starts when the stream asks for the first message.
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
      ByteString bytes = ByteString.fromByteBuffer(data);
      if (partial == null && last) {
        deliver(bytes);
        return null;
      }
      if (partial == null) {
        partial = new ByteStringBuilder();
      }
      partial.append(bytes);
      if (partial.length() > FrameCodec.MAX_FRAME_BYTES) {
        partial = null;
        deliver(new ProtocolException("frame exceeds " + FrameCodec.MAX_FRAME_BYTES + " bytes"));
        webSocket.abort();
      } else if (last) {
        ByteString whole = partial.result();
        partial = null;
        deliver(whole);
      } else {
        webSocket.request(1);
      }
      return null;
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      deliver(new ProtocolException("text messages are not part of the protocol"));
      webSocket.abort();
      return null;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
      // The JDK answers the ping itself; it used up the request the stream made, so renew it.
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      deliver(End.INSTANCE);
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      deliver(error);
    }

    private synchronized void deliver(Object event) {
      if (toStage != null) {
        toStage.invoke(event);
      } else {
        earlyEnd = event;
      }
    }

    private synchronized void attach(AsyncCallback<Object> callback) {
      toStage = callback;
      if (earlyEnd != null) {
        callback.invoke(earlyEnd);
      }
    }
  }

  private enum End {
    INSTANCE
  }

  private final class InboundStage extends GraphStage<SourceShape<ByteString>> {
    private final Outlet<ByteString> out = Outlet.create("JdkHubSocket.in");

    @Override
    public SourceShape<ByteString> shape() {
      return SourceShape.of(out);
    }

    @Override
    public GraphStageLogic createLogic(Attributes attributes) {
      return new GraphStageLogic(shape()) {
        {
          setHandler(
              out,
              new AbstractOutHandler() {
                @Override
                public void onPull() {
                  socket.request(1);
                }

                @Override
                public void onDownstreamFinish(Throwable cause) {
                  // The flow is done with the socket; leave the outbound side time to flush.
                  abortLater();
                  completeStage();
                }
              });
        }

        @Override
        public void preStart() {
          inbound.attach(createAsyncCallback(this::onEvent));
        }

        private void onEvent(Object event) {
          if (event instanceof ByteString bytes) {
            push(out, bytes);
          } else if (event instanceof Throwable failure) {
            failStage(failure);
          } else {
            completeStage();
          }
        }
      };
    }
  }

  private final class OutboundStage extends GraphStage<SinkShape<Message>> {
    private final Inlet<Message> in = Inlet.create("JdkHubSocket.out");

    @Override
    public SinkShape<Message> shape() {
      return SinkShape.of(in);
    }

    @Override
    public GraphStageLogic createLogic(Attributes attributes) {
      return new GraphStageLogic(shape()) {
        private final AsyncCallback<Throwable> sent = createAsyncCallback(this::onSent);
        private boolean sending;
        private boolean finishing;

        {
          setHandler(
              in,
              new AbstractInHandler() {
                @Override
                public void onPush() {
                  ByteString bytes = grab(in).asBinaryMessage().getStrictData();
                  sending = true;
                  socket
                      .sendBinary(bytes.asByteBuffer(), true)
                      .whenComplete((ignored, failure) -> sent.invoke(failure));
                }

                @Override
                public void onUpstreamFinish() {
                  finishing = true;
                  if (!sending) {
                    closeSocket();
                  }
                }

                @Override
                public void onUpstreamFailure(Throwable failure) {
                  socket.abort();
                  failStage(failure);
                }
              });
        }

        @Override
        public void preStart() {
          pull(in);
        }

        private void onSent(Throwable failure) {
          sending = false;
          if (failure != null) {
            socket.abort();
            failStage(failure);
          } else if (finishing) {
            closeSocket();
          } else {
            pull(in);
          }
        }

        private void closeSocket() {
          socket
              .sendClose(WebSocket.NORMAL_CLOSURE, "")
              .whenComplete((ignored, failure) -> socket.abort());
          completeStage();
        }
      };
    }
  }
}
