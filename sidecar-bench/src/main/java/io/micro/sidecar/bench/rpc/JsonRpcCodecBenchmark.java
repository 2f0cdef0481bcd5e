package io.micro.sidecar.bench.rpc;

import io.micro.sidecar.core.rpc.JsonRpcCodec;
import io.micro.sidecar.core.rpc.PathMapper;
import io.micro.sidecar.core.rpc.RpcAnswer;
import io.micro.sidecar.core.rpc.RpcRequest;
import io.micro.sidecar.core.rpc.RpcRequestCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** The per-call work of /rpc: parse the request, wrap it for the app, find the result in the answer, map a path. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class JsonRpcCodecBenchmark {

  /** Size of the request and result payloads in bytes (roughly). */
  @Param({"64", "1024"})
  int payload;

  private byte[] rpcBody;
  private String formBody;
  private byte[] request;
  private ByteBuf answer;

  @Setup
  public void setup() {
    String value = "x".repeat(Math.max(1, payload - 16));
    request = ("{\"name\":\"" + value + "\"}").getBytes(StandardCharsets.UTF_8);
    rpcBody = ("{\"service\":\"go.micro.srv.example\",\"method\":\"Example.Call\",\"request\":{\"name\":\"" + value + "\"}}")
        .getBytes(StandardCharsets.UTF_8);
    formBody = "service=go.micro.srv.example&method=Example.Call&request=%7B%22name%22%3A%22" + value + "%22%7D";
    answer = Unpooled.wrappedBuffer(("{\"id\":0,\"result\":{\"msg\":\"" + value + "\"},\"error\":null}")
        .getBytes(StandardCharsets.UTF_8));
  }

  @Benchmark
  public RpcRequest parseJsonBody() {
    return RpcRequestCodec.fromJson(rpcBody);
  }

  @Benchmark
  public RpcRequest parseFormBody() {
    return RpcRequestCodec.fromForm(formBody);
  }

  @Benchmark
  public int wrapRequest() {
    ByteBuf buf = JsonRpcCodec.encodeRequest(PooledByteBufAllocator.DEFAULT, "Example.Call", request);
    int n = buf.readableBytes();
    buf.release();
    return n;
  }

  @Benchmark
  public RpcAnswer extractResult() {
    return JsonRpcCodec.decodeResponse(answer);
  }

  @Benchmark
  public PathMapper.Route mapPath() {
    return PathMapper.map("go.micro.srv", "/v1/greeter/say-hello");
  }
}
