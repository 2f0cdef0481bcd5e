package io.micro.sidecar.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BrokerHandlerTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "content-type, Content-Type",
      "CONTENT-TYPE, Content-Type",
      "timestamp, Timestamp",
      "x-trace-id, X-Trace-Id",
      "X-TRACE-ID, X-Trace-Id",
      "x--double, X--Double",
      "www-authenticate, Www-Authenticate",
      "a1-b2, A1-B2",
  })
  void headerNamesTakeGosCanonicalForm(String raw, String canonical) {
    assertThat(BrokerHandler.canonical(raw)).isEqualTo(canonical);
  }

  @Test
  void theMessageHeaderHoldsTheFirstValueOfEachRequestHeaderButNotHostOrTransferEncoding() {
    HttpHeaders headers = new DefaultHttpHeaders()
        .add("host", "localhost:8081")
        .add("transfer-encoding", "chunked")
        .add("timestamp", "1499951537")
        .add("Accept", "a")
        .add("accept", "b");
    assertThat(BrokerHandler.header(headers))
        .containsOnlyKeys("Timestamp", "Accept")
        .containsEntry("Timestamp", "1499951537")
        .containsEntry("Accept", "a");
  }
}
