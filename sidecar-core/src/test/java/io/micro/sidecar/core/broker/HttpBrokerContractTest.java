package io.micro.sidecar.core.broker;

import io.micro.sidecar.core.registry.Registry;
import java.util.ArrayList;
import java.util.List;
import reactor.netty.http.client.HttpClient;

/**
 * The http broker on one sidecar holds to the {@link BrokerContract}: with no peers registered, what is
 * published here reaches this sidecar's subscribers as the memory broker's would. Its nodes are in a
 * memory registry, as they would be in etcd; nothing here opens a socket.
 */
class HttpBrokerContractTest extends BrokerContract {

  private final List<Registry> registries = new ArrayList<>();

  @Override
  Broker newBroker(BrokerConfig config) {
    Registry registry = Registry.memory();
    registries.add(registry);
    HttpBroker broker = new HttpBroker(new SinkBroker(config), registry, new TopicRegistrar(registry),
        new PeerClient(HttpClient.create(), WAIT, 8, System::nanoTime), n -> 0);
    broker.listening("127.0.0.1", 1, false);
    return broker;
  }

  @Override
  void closed() {
    registries.forEach(Registry::close);
  }
}
