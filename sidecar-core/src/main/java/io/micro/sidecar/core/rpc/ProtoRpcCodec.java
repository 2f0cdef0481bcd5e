package io.micro.sidecar.core.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * go-micro's proto-rpc framing (contract §5): a message is netstring(envelope) + netstring(body), a
 * netstring being a 4-byte big-endian length and the bytes. The request envelope is the protobuf
 * message {@code Request { string service_method = 1; fixed64 seq = 2; }}; the answer's is
 * {@code Response { string service_method = 1; fixed64 seq = 2; string error = 3; }}. The few bytes of
 * protobuf are written and read here directly.
 *
 * <p>Stateless and thread-safe.
 */
public final class ProtoRpcCodec {

  private static final int SERVICE_METHOD = 1;
  private static final int SEQ = 2;
  private static final int ERROR = 3;
  private static final int WIRE_VARINT = 0;
  private static final int WIRE_FIXED64 = 1;
  private static final int WIRE_BYTES = 2;
  private static final int WIRE_FIXED32 = 5;

  private ProtoRpcCodec() {}

  /** The request go-micro's proto-rpc client writes for {@code method} with {@code body}; owned by the caller. */
  public static ByteBuf encodeRequest(ByteBufAllocator alloc, String method, byte[] body) {
    byte[] name = method.getBytes(StandardCharsets.UTF_8);
    int envelope = 1 + varintSize(name.length) + name.length + 1 + 8;
    ByteBuf out = alloc.buffer(4 + envelope + 4 + body.length);
    out.writeInt(envelope);
    out.writeByte(SERVICE_METHOD << 3 | WIRE_BYTES);
    writeVarint(out, name.length);
    out.writeBytes(name);
    out.writeByte(SEQ << 3 | WIRE_FIXED64);
    out.writeLongLE(0);
    out.writeInt(body.length);
    out.writeBytes(body);
    return out;
  }

  /** The total length {@link #encodeRequest} writes. */
  public static int requestLength(String method, byte[] body) {
    int name = method.getBytes(StandardCharsets.UTF_8).length;
    return 4 + 1 + varintSize(name) + name + 1 + 8 + 4 + body.length;
  }

  /**
   * Reads an app's proto-rpc answer: the reply bytes, or the envelope's {@code error} as a failure
   * (a micro error JSON keeps its code; other text is 500 {@code error during request: <text>}, marked
   * plain so it takes the route's id). {@code answer} is neither released nor consumed.
   */
  public static RpcAnswer decodeResponse(ByteBuf answer) {
    Objects.requireNonNull(answer, "answer");
    ByteBuf in = answer.duplicate();
    try {
      int envelopeLength = in.readInt();
      ByteBuf envelope = in.readSlice(envelopeLength);
      String error = null;
      while (envelope.isReadable()) {
        long key = readVarint(envelope);
        int field = (int) (key >>> 3);
        int wire = (int) (key & 7);
        switch (wire) {
          case WIRE_VARINT -> readVarint(envelope);
          case WIRE_FIXED64 -> envelope.skipBytes(8);
          case WIRE_FIXED32 -> envelope.skipBytes(4);
          case WIRE_BYTES -> {
            int length = (int) readVarint(envelope);
            ByteBuf value = envelope.readSlice(length);
            if (field == ERROR) {
              error = value.toString(StandardCharsets.UTF_8);
            }
          }
          default -> throw new IllegalArgumentException("wire type " + wire);
        }
      }
      if (error != null && !error.isEmpty()) {
        return JsonRpcCodec.stringError(error);
      }
      int bodyLength = in.readInt();
      byte[] body = new byte[bodyLength];
      in.readBytes(body);
      return new RpcAnswer.Result(body);
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      return new RpcAnswer.Failure(MicroError.of(MicroError.CLIENT_ID, 500,
          "invalid response from app: not proto-rpc framing"));
    }
  }

  private static void writeVarint(ByteBuf out, long value) {
    while ((value & ~0x7FL) != 0) {
      out.writeByte((int) ((value & 0x7F) | 0x80));
      value >>>= 7;
    }
    out.writeByte((int) value);
  }

  private static int varintSize(long value) {
    int n = 1;
    while ((value & ~0x7FL) != 0) {
      n++;
      value >>>= 7;
    }
    return n;
  }

  private static long readVarint(ByteBuf in) {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      byte b = in.readByte();
      result |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return result;
      }
    }
    throw new IllegalArgumentException("varint longer than 10 bytes");
  }
}
