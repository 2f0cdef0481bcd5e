package io.micro.sidecar.core.client;

import reactor.core.publisher.MonoSink;

/**
 * How a call made on an event loop ends: exactly one of the two methods is called, once, on that loop.
 * The direct path takes calls this way, without a Reactor chain per call; {@link #of(MonoSink)} serves
 * the routes that want a {@code Mono}.
 */
public interface Callback<T> {

  void succeeded(T value);

  void failed(Throwable error);

  /** Completes {@code sink}: a value, none (null), or the error. */
  static <T> Callback<T> of(MonoSink<T> sink) {
    return new Callback<>() {
      @Override
      public void succeeded(T value) {
        sink.success(value);
      }

      @Override
      public void failed(Throwable error) {
        sink.error(error);
      }
    };
  }
}
