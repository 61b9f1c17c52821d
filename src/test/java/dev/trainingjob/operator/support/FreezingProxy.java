package dev.trainingjob.operator.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay on loopback in front of a server, whose connections can be frozen: the bytes stop in both directions but
 * the sockets stay open, as when a machine vanishes or a NAT forgets a flow. Connections made after the freeze are
 * relayed normally. Counts the connections the client side closed.
 */
public final class FreezingProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final String host;
  private final int port;
  private final List<Link> links = new CopyOnWriteArrayList<>();
  private final AtomicInteger closedByClient = new AtomicInteger();

  public FreezingProxy(String host, int port) throws IOException {
    this.host = host;
    this.port = port;
    listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread accepting = new Thread(this::accept, "freezing-proxy");
    accepting.setDaemon(true);
    accepting.start();
  }

  public int port() {
    return listener.getLocalPort();
  }

  /** Stops every connection open now from carrying anything, leaving their sockets open. */
  public void freeze() {
    links.forEach(l -> l.frozen = true);
  }

  /** Connections whose client end closed (read end of stream or a reset) since the proxy started. */
  public int closedByClient() {
    return closedByClient.get();
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket(host, port);
        Link link = new Link(client, server);
        links.add(link);
        pump(link, client, server, true);
        pump(link, server, client, false);
      } catch (IOException e) {
        return;
      }
    }
  }

  private void pump(Link link, Socket from, Socket to, boolean fromClient) {
    Thread t = new Thread(() -> {
      byte[] buffer = new byte[16 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        for (int n; (n = in.read(buffer)) >= 0; ) {
          if (!link.frozen) {
            out.write(buffer, 0, n);
            out.flush();
          }
        }
      } catch (IOException e) {
        // closed or reset: counted below
      }
      if (fromClient && link.counted.compareAndSet(false, true)) {
        closedByClient.incrementAndGet();
      }
      if (!link.frozen) {
        link.close();
      }
    }, "freezing-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private static final class Link {
    final Socket client;
    final Socket server;
    volatile boolean frozen;
    final java.util.concurrent.atomic.AtomicBoolean counted = new java.util.concurrent.atomic.AtomicBoolean();

    Link(Socket client, Socket server) {
      this.client = client;
      this.server = server;
    }

    void close() {
      try {
        client.close();
      } catch (IOException ignored) {
        // closing anyway
      }
      try {
        server.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
    links.forEach(Link::close);
  }
}
