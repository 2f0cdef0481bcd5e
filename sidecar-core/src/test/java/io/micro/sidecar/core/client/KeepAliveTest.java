package io.micro.sidecar.core.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fast keep-alive answer agrees with Netty's for every shape of {@code Connection} header. */
class KeepAliveTest {

  private static HttpResponse response(HttpVersion version, String... connection) {
    HttpResponse r = new DefaultHttpResponse(version, HttpResponseStatus.OK);
    for (String c : connection) {
      r.headers().add(HttpHeaderNames.CONNECTION, c);
    }
    return r;
  }

  @Test
  void agreesWithNettyOnEveryCase() {
    List<String[]> cases = List.of(new String[0], new String[] {"keep-alive"}, new String[] {"Keep-Alive"},
        new String[] {"close"}, new String[] {"CLOSE"}, new String[] {"upgrade"}, new String[] {"keep-alive, close"},
        new String[] {"Upgrade, Keep-Alive"}, new String[] {"keep-alive", "close"}, new String[] {"close", "keep-alive"},
        new String[] {""});
    for (HttpVersion version : List.of(HttpVersion.HTTP_1_1, HttpVersion.HTTP_1_0)) {
      for (String[] c : cases) {
        HttpResponse r = response(version, c);
        assertThat(KeepAlive.of(r)).as("%s %s", version, List.of(c)).isEqualTo(HttpUtil.isKeepAlive(r));
      }
    }
  }

  @Test
  void theCommonCases() {
    assertThat(KeepAlive.of(response(HttpVersion.HTTP_1_1))).isTrue();
    assertThat(KeepAlive.of(response(HttpVersion.HTTP_1_0))).isFalse();
    assertThat(KeepAlive.of(response(HttpVersion.HTTP_1_1, "close"))).isFalse();
    assertThat(KeepAlive.of(response(HttpVersion.HTTP_1_0, "keep-alive"))).isTrue();
  }
}
