package io.micro.sidecar.core.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Who may talk to the sidecar and how.
 *
 * @param tls          serve HTTPS and WSS ({@code --enable_tls}, {@code --tls_cert_file},
 *                     {@code --tls_key_file}); with {@code clientCa} clients must present a certificate
 *                     it signed ({@code --tls_client_ca_file}), checked at the handshake
 * @param cors         allowed origins ({@code --cors}, default {@code *}); also checked on WebSocket
 *                     upgrades that send an Origin
 * @param apiToken     when set, routes that change state need {@code Authorization: Bearer <token>}
 *                     ({@code --api_token}); never logged
 * @param openReads    with a token, let reads (GET of registry, health, stats) through without it
 *                     ({@code --api_token_open_reads}, default false)
 * @param appTrust     call apps over HTTPS, trusting this CA ({@code --client_tls_ca_file})
 * @param clientCert   presented when calling other sidecars over HTTPS under mutual TLS
 * @param corsCredentials answers to allowed origins carry {@code Access-Control-Allow-Credentials: true}
 *                     ({@code --cors_credentials}, default off: the original always sent it, which lets
 *                     any page a user visits make credentialed calls to the apps behind the sidecar)
 */
public record SecurityConfig(Optional<Tls> tls, List<String> cors, Optional<String> apiToken, boolean openReads,
                             Optional<Path> appTrust, boolean corsCredentials, Optional<ClientCert> clientCert) {

  public static final SecurityConfig DEFAULT =
      new SecurityConfig(Optional.empty(), List.of("*"), Optional.empty(), false, Optional.empty(), false, Optional.empty());

  /**
   * The certificate (PEM chain) and key (PKCS#8 PEM) the sidecar presents when it calls over HTTPS:
   * to other sidecars serving mutual TLS ({@code --client_tls_cert_file}, {@code --client_tls_key_file}).
   */
  public record ClientCert(Path certFile, Path keyFile) {}

  public SecurityConfig withClientCert(ClientCert cert) {
    return new SecurityConfig(tls, cors, apiToken, openReads, appTrust, corsCredentials, Optional.of(cert));
  }

  public SecurityConfig {
    cors = List.copyOf(cors);
  }

  /** The server's certificate chain and key (PEM), and the CA that signs client certificates for mutual TLS. */
  public record Tls(Path certFile, Path keyFile, Optional<Path> clientCaFile) {}

  public SecurityConfig withTls(Tls tls) {
    return new SecurityConfig(Optional.of(tls), cors, apiToken, openReads, appTrust, corsCredentials, clientCert);
  }

  public SecurityConfig withApiToken(String token, boolean openReads) {
    return new SecurityConfig(tls, cors, Optional.of(token), openReads, appTrust, corsCredentials, clientCert);
  }

  public SecurityConfig withCors(List<String> cors) {
    return new SecurityConfig(tls, cors, apiToken, openReads, appTrust, corsCredentials, clientCert);
  }

  public SecurityConfig withAppTrust(Path ca) {
    return new SecurityConfig(tls, cors, apiToken, openReads, Optional.of(ca), corsCredentials, clientCert);
  }

  public SecurityConfig withCorsCredentials(boolean credentials) {
    return new SecurityConfig(tls, cors, apiToken, openReads, appTrust, credentials, clientCert);
  }

  /** Hides the token from logs and toString. */
  @Override
  public String toString() {
    return "SecurityConfig[tls=" + tls + ", cors=" + cors + ", apiToken=" + (apiToken.isPresent() ? "(set)" : "none")
        + ", openReads=" + openReads + ", appTrust=" + appTrust + ", corsCredentials=" + corsCredentials
        + ", clientCert=" + clientCert + "]";
  }
}
