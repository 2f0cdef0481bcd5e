package io.micro.sidecar.server;

import io.micro.sidecar.core.config.SecurityConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import javax.net.ssl.SSLException;
import reactor.netty.http.Http11SslContextSpec;

/** The server's TLS context, built once at start so that a bad file fails the start with its name. */
final class Tls {

  private Tls() {}

  /**
   * @throws IllegalArgumentException naming the file that could not be used
   */
  static Http11SslContextSpec serverContext(SecurityConfig.Tls tls) {
    Http11SslContextSpec spec;
    try {
      spec = Http11SslContextSpec.forServer(tls.certFile().toFile(), tls.keyFile().toFile());
      if (tls.clientCaFile().isPresent()) {
        spec = spec.configure(b -> b.trustManager(tls.clientCaFile().get().toFile()).clientAuth(ClientAuth.REQUIRE));
      }
      SslContext probe = spec.sslContext();
      if (probe == null) {
        throw new IllegalStateException("no TLS context");
      }
    } catch (SSLException | RuntimeException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new IllegalArgumentException("cannot use --tls_cert_file " + tls.certFile() + " / --tls_key_file "
          + tls.keyFile() + tls.clientCaFile().map(ca -> " / --tls_client_ca_file " + ca).orElse("") + ": "
          + cause.getMessage() + " (expected: PEM certificate chain and PKCS#8 PEM key)", e);
    }
    return spec;
  }

  /**
   * The context for calling other sidecars over HTTPS: trusting {@code --client_tls_ca_file} (else the
   * JDK's CAs) and presenting {@code --client_tls_cert_file} for mutual TLS.
   *
   * @throws IllegalArgumentException naming the file that could not be used
   */
  static Http11SslContextSpec peerContext(SecurityConfig security) {
    Http11SslContextSpec spec = Http11SslContextSpec.forClient().configure(b -> {
      security.appTrust().ifPresent(ca -> b.trustManager(ca.toFile()));
      security.clientCert().ifPresent(c -> b.keyManager(c.certFile().toFile(), c.keyFile().toFile()));
    });
    try {
      if (spec.sslContext() == null) {
        throw new IllegalStateException("no TLS context");
      }
    } catch (SSLException | RuntimeException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new IllegalArgumentException("cannot use --client_tls_ca_file " + security.appTrust().orElse(null)
          + security.clientCert().map(c -> " / --client_tls_cert_file " + c.certFile() + " / --client_tls_key_file "
          + c.keyFile()).orElse("") + ": " + cause.getMessage() + " (expected: PEM files, the key in PKCS#8)", e);
    }
    return spec;
  }
}
