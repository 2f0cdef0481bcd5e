package io.micro.sidecar.core.registry;

/** A service description a client sent that cannot be registered; the message is one line for the client. */
public final class InvalidServiceException extends IllegalArgumentException {

  public InvalidServiceException(String message) {
    super(message);
  }
}
