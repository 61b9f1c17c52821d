package dev.trainingjob.operator.remote.ssh;

import dev.trainingjob.operator.remote.HostKeyMismatchException;
import dev.trainingjob.operator.remote.HostUnreachableException;
import dev.trainingjob.operator.remote.JobRef;
import dev.trainingjob.operator.remote.RemoteHost;
import dev.trainingjob.operator.remote.RemoteHosts;
import dev.trainingjob.operator.remote.RemoteSettings;
import dev.trainingjob.operator.remote.SshTarget;
import java.io.IOException;
import java.net.SocketAddress;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.time.Duration;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.apache.sshd.client.ClientBuilder;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.common.BaseBuilder;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.kex.BuiltinDHFactories;
import org.apache.sshd.client.future.ConnectFuture;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.signature.BuiltinSignatures;
import org.apache.sshd.core.CoreModuleProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SSH connections, kept and reused across probes and reopened when they drop. A connection is kept
 * under everything that authenticates it (user, host, port, login key, expected host keys), so it is
 * only ever reused by a target that would have been let in, and verified, the same way. Host keys are
 * checked against the key(s) the provider supplies; a mismatch refuses the connection. A connection
 * is closed when the jobs holding it let go, or when nothing used it for the idle timeout.
 */
public final class SshRemoteHosts implements RemoteHosts {
  private static final Logger LOG = LoggerFactory.getLogger(SshRemoteHosts.class);
  static final AttributeRepository.AttributeKey<Attempt> ATTEMPT = new AttributeRepository.AttributeKey<>();
  private static final Duration LONGEST_IDLE_CHECK = Duration.ofSeconds(30);
  private static final String KEEP_ALIVE_REQUEST = "keepalive@openssh.com";
  /** See {@link #leaseForWait}: room for the waits of a few jobs sharing a login, and still six channels for the rest. */
  static final int MAX_WAITS_PER_CONNECTION = 4;

  /**
   * The key exchanges offered, best first: the ML-KEM hybrid (post-quantum; OpenSSH 9.9 on, and the local provider's
   * server), then MINA's own order (the sntrup761 hybrid that OpenSSH 8.5 to 9.8 offer, the other ML-KEM hybrids, curve25519
   * and the rest).
   * MINA puts sntrup761 first; in BouncyCastle's Java it costs about 80 ms of CPU a connection (both ends; ML-KEM 15,
   * curve25519 9), and a burst of job starts opens one connection per machine.
   */
  static final List<BuiltinDHFactories> KEY_EXCHANGES = Stream.concat(Stream.of(BuiltinDHFactories.mlkem768x25519),
      BaseBuilder.DEFAULT_KEX_PREFERENCE.stream().filter(f -> f != BuiltinDHFactories.mlkem768x25519)).toList();

  private final SshClient client;
  private final RemoteSettings settings;
  private final Map<PoolKey, Pooled> pool = new ConcurrentHashMap<>();
  /** By job uid; in memory only: an operator that starts knows no log, and asks for each one's tail. */
  private final Map<String, LogWindow> logs = new ConcurrentHashMap<>();
  private final ScheduledExecutorService idleCloser;

  public SshRemoteHosts(RemoteSettings settings) {
    this.settings = settings;
    client = SshClient.setUpDefaultClient();
    // prefer the key types current OpenSSH servers have, so the expected key is the one offered
    client.setSignatureFactories(List.of(BuiltinSignatures.ed25519, BuiltinSignatures.nistp256, BuiltinSignatures.nistp384,
        BuiltinSignatures.nistp521, BuiltinSignatures.rsaSHA512, BuiltinSignatures.rsaSHA256));
    client.setKeyExchangeFactories(NamedFactory.setUpTransformedFactories(true, KEY_EXCHANGES, ClientBuilder.DH2KEX));
    client.setServerKeyVerifier(this::verifyServerKey);
    // keep-alives that want an answer (OpenSSH's ServerAliveInterval and ServerAliveCountMax): a machine that vanished
    // without closing the connection is noticed and the connection closed, so the next use opens a new one instead of
    // every command on it waiting out its timeout
    CoreModuleProperties.HEARTBEAT_INTERVAL.set(client, settings.keepAlive());
    CoreModuleProperties.HEARTBEAT_REPLY_WAIT.set(client, settings.keepAlive());
    CoreModuleProperties.HEARTBEAT_NO_REPLY_MAX.set(client, RemoteSettings.KEEP_ALIVE_MISSES);
    client.start();
    idleCloser = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "ssh-idle-closer");
      t.setDaemon(true);
      return t;
    });
    // a quarter of the timeout: an idle connection is closed at most a quarter late
    long every = Math.max(10, Math.min(LONGEST_IDLE_CHECK.toMillis(), settings.idleTimeout().toMillis() / 4));
    idleCloser.scheduleWithFixedDelay(this::closeIdle, every, every, TimeUnit.MILLISECONDS);
  }

  public RemoteSettings settings() {
    return settings;
  }

  // ---- what a connection is kept under

  /**
   * Everything that authenticates a connection, both ways. The login key counts by its public half and a digest of its
   * private half: a key file may pair another job's public key with a private key of its own, and the server would
   * refuse it, so it must not find that job's connection here either.
   */
  record PoolKey(String user, String host, int port, String login, String hostKeys) {
    static PoolKey of(SshTarget t) {
      String hostKeys = t.acceptAnyHostKey() ? "any"
          : KeyUtils.getFingerPrint(t.hostKey()) + (t.nextHostKey() == null ? "" : "|" + KeyUtils.getFingerPrint(t.nextHostKey()));
      return new PoolKey(t.user(), t.host(), t.port(), login(t.key()), hostKeys);
    }

    private static String login(KeyPair key) {
      if (key == null) {
        return "none";
      }
      byte[] secret = key.getPrivate() == null ? null : key.getPrivate().getEncoded();
      return KeyUtils.getFingerPrint(key.getPublic()) + "/" + (secret == null ? KeyIdentity.of(key) : sha256(secret));
    }

    @Override
    public String toString() {
      return user + "@" + host + ":" + port; // never the key digests
    }
  }

  /** For a private key that cannot be encoded (a hardware-backed one): only that very key pair shares its connection. */
  private static final class KeyIdentity {
    private static final Map<KeyPair, String> IDS = Collections.synchronizedMap(new WeakHashMap<>());
    private static final AtomicLong NEXT = new AtomicLong();

    static String of(KeyPair key) {
      return IDS.computeIfAbsent(key, k -> "instance-" + NEXT.incrementAndGet());
    }
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** One kept connection, the jobs holding it, and whether anything uses it now. */
  private static final class Pooled {
    final PoolKey key;
    /** Held only for bookkeeping, never across the network: a connect runs outside it (see {@link #connecting}). */
    final ReentrantLock lock = new ReentrantLock();
    /** This and the rest under {@link #lock}. */
    ClientSession session;
    /** The connect in progress for this key, which every user of the key waits on instead of connecting again. */
    CompletableFuture<ClientSession> connecting;
    final Set<String> holders = new java.util.HashSet<>();
    int inUse;
    long idleSince = System.nanoTime();
    /** Out of the pool: whoever finds it makes a new one. */
    boolean retired;
    /** Channels lent to long waits (a job's exit): at most {@link #MAX_WAITS_PER_CONNECTION}. */
    int waits;

    Pooled(PoolKey key) {
      this.key = key;
    }

    boolean usable() {
      return session != null && session.isOpen() && session.isAuthenticated();
    }
  }

  /** A connection lent for one operation (or a tunnel's life): never closed as idle while lent. */
  final class Lease implements AutoCloseable {
    private final Pooled pooled;
    private final ClientSession session;
    private boolean returned;
    /** Lent for a long wait: counted against the connection's {@link #MAX_WAITS_PER_CONNECTION}. */
    private boolean waiting;

    private Lease(Pooled pooled, ClientSession session) {
      this.pooled = pooled;
      this.session = session;
    }

    ClientSession session() {
      return session;
    }

    @Override
    public void close() {
      pooled.lock.lock();
      try {
        if (!returned) {
          returned = true;
          pooled.inUse--;
          pooled.idleSince = System.nanoTime();
          if (waiting) {
            pooled.waits--;
          }
        }
      } finally {
        pooled.lock.unlock();
      }
    }
  }

  /** What one connection attempt verifies the server against, and what it found. */
  static final class Attempt {
    final SshTarget target;
    volatile String mismatch;

    Attempt(SshTarget target) {
      this.target = target;
    }
  }

  // ---- connecting

  private boolean verifyServerKey(ClientSession session, SocketAddress address, PublicKey presented) {
    Attempt attempt = session.getConnectionContext() == null ? null : session.getConnectionContext().getAttribute(ATTEMPT);
    if (attempt == null) {
      return false;
    }
    SshTarget target = attempt.target;
    if (target.acceptAnyHostKey() || KeyUtils.compareKeys(target.hostKey(), presented)
        || (target.nextHostKey() != null && KeyUtils.compareKeys(target.nextHostKey(), presented))) {
      return true;
    }
    String expected = KeyUtils.getFingerPrint(target.hostKey()) + " (" + KeyUtils.getKeyType(target.hostKey()) + ")"
        + (target.nextHostKey() == null ? "" : " or " + KeyUtils.getFingerPrint(target.nextHostKey()));
    attempt.mismatch = "Refusing to connect to " + target.host() + ":" + target.port() + ": it presented host key "
        + KeyUtils.getFingerPrint(presented) + " (" + KeyUtils.getKeyType(presented) + "), but the expected key is "
        + expected + ". Either the machine was replaced or someone is in between.";
    LOG.warn(attempt.mismatch);
    return false;
  }

  @Override
  public RemoteHost connect(SshTarget target) throws HostUnreachableException, HostKeyMismatchException {
    return connect(target, null);
  }

  @Override
  public RemoteHost connect(SshTarget target, JobRef job) throws HostUnreachableException, HostKeyMismatchException {
    lease(target, job).close();
    return new SshRemoteHost(this, target);
  }

  /** The open connection to the target, lent until the lease is closed; opens one when there is none or it dropped. */
  Lease lease(SshTarget target) throws HostUnreachableException, HostKeyMismatchException {
    return lease(target, null);
  }

  private Lease lease(SshTarget target, JobRef holder) throws HostUnreachableException, HostKeyMismatchException {
    PoolKey key = PoolKey.of(target);
    while (true) {
      Pooled p = pool.computeIfAbsent(key, Pooled::new);
      CompletableFuture<ClientSession> connecting;
      boolean mine = false;
      p.lock.lock();
      try {
        if (p.retired) {
          continue;
        }
        if (p.usable()) {
          return lend(p, holder);
        }
        if (p.session != null) {
          closeQuietly(p.session);
          p.session = null;
        }
        if (p.connecting == null) {
          p.connecting = new CompletableFuture<>();
          mine = true;
        }
        connecting = p.connecting;
        p.inUse++; // a connect being waited for is a use: the idle closer leaves it alone
      } finally {
        p.lock.unlock();
      }
      // the network is met outside the entry's lock: a machine that accepts TCP and then says nothing holds up those that
      // wait for that very machine, never a release, the idle closer, or another machine's connect
      if (mine) {
        connect(p, target, connecting);
      }
      try {
        connecting.join();
      } catch (java.util.concurrent.CompletionException e) {
        giveBack(p);
        if (e.getCause() instanceof HostKeyMismatchException m) {
          throw m;
        }
        if (e.getCause() instanceof HostUnreachableException u) {
          throw u;
        }
        throw new HostUnreachableException(target.host() + ":" + target.port(), describe(e.getCause()), e.getCause());
      }
      p.lock.lock();
      try {
        p.inUse--;
        if (!p.retired && p.usable()) {
          return lend(p, holder);
        }
      } finally {
        p.lock.unlock();
      }
      // let go (or dropped) while it connected: look again
    }
  }

  /**
   * The open connection to the target lent for a long wait on one channel (a job's exit), or empty when there is none or
   * it carries as many waits as it may: OpenSSH serves 10 channels per connection (MaxSessions), and the probes, uploads, logs and holds of every job
   * sharing it need the rest.
   */
  Optional<Lease> leaseForWait(SshTarget target) {
    // never a connect: a wait is started from a probe that just used the connection, or from the end of the wait before
    // (on one of MINA's own threads, which must not wait on the network)
    Pooled p = pool.get(PoolKey.of(target));
    if (p == null) {
      return Optional.empty();
    }
    p.lock.lock();
    try {
      if (p.retired || !p.usable() || p.waits >= MAX_WAITS_PER_CONNECTION) {
        return Optional.empty();
      }
      p.waits++;
      Lease lease = lend(p, null);
      lease.waiting = true;
      return Optional.of(lease);
    } finally {
      p.lock.unlock();
    }
  }

  /** Long waits lent out now, over every connection (each holds a channel open on its machine). */
  public int openWaits() {
    int n = 0;
    for (Pooled p : pool.values()) {
      p.lock.lock();
      try {
        n += p.waits;
      } finally {
        p.lock.unlock();
      }
    }
    return n;
  }

  /** Under the entry's lock: the connection lent, the holder recorded. */
  private Lease lend(Pooled p, JobRef holder) {
    if (holder != null) {
      p.holders.add(holder.uid());
    }
    p.inUse++;
    return new Lease(p, p.session);
  }

  /** One connect for the key, whose outcome every waiter shares; the session goes into the entry unless it was let go. */
  private void connect(Pooled p, SshTarget target, CompletableFuture<ClientSession> connecting) {
    ClientSession session = null;
    Exception failure = null;
    try {
      session = open(target);
    } catch (HostUnreachableException | HostKeyMismatchException | RuntimeException e) {
      failure = e;
    }
    p.lock.lock();
    try {
      p.connecting = null;
      if (session != null && p.retired) {
        closeQuietly(session); // released while it connected: nobody holds it
      } else if (session != null) {
        p.session = session;
        p.idleSince = System.nanoTime();
      }
    } finally {
      p.lock.unlock();
    }
    if (failure != null) {
      connecting.completeExceptionally(failure);
    } else {
      connecting.complete(session);
    }
  }

  private void giveBack(Pooled p) {
    p.lock.lock();
    try {
      p.inUse--;
      p.idleSince = System.nanoTime();
    } finally {
      p.lock.unlock();
    }
  }

  private ClientSession open(SshTarget target) throws HostUnreachableException, HostKeyMismatchException {
    String where = target.host() + ":" + target.port();
    Attempt attempt = new Attempt(target);
    ClientSession session = null;
    try {
      ConnectFuture future = client.connect(target.user(), target.host(), target.port(),
          AttributeRepository.ofKeyValuePair(ATTEMPT, attempt));
      long deadline = System.nanoTime() + settings.connectTimeout().toNanos();
      session = future.verify(settings.connectTimeout()).getSession();
      if (target.key() != null) {
        session.addPublicKeyIdentity(target.key());
      }
      // one deadline for the TCP connect, the key exchange and the login: a machine that accepts and says nothing costs
      // the connect timeout, not twice it
      session.auth().verify(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      LOG.info("connected to {}", target);
      return session;
    } catch (IOException | RuntimeException e) {
      if (session != null) {
        closeQuietly(session);
      }
      if (attempt.mismatch != null) {
        throw new HostKeyMismatchException(attempt.mismatch);
      }
      throw new HostUnreachableException(where, describe(e), e);
    }
  }

  /** A short reason: connection refused, timed out, authentication refused. */
  private static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String text = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    if (String.valueOf(e.getMessage()).contains("No more authentication methods")) {
      return "the login key was refused (it may not be installed yet)";
    }
    return text;
  }

  /**
   * Whether the connection still answers: one keep-alive request that wants a reply (any reply: OpenSSH refuses the
   * request it does not know, which is an answer), waited for at most {@code within}.
   */
  static boolean answers(ClientSession session, Duration within) {
    try {
      Buffer ping = session.createBuffer(SshConstants.SSH_MSG_GLOBAL_REQUEST, 64);
      ping.putString(KEEP_ALIVE_REQUEST);
      ping.putBoolean(true);
      return session.request(ping, KEEP_ALIVE_REQUEST, null).await(within);
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  // ---- letting go

  /** Forgets a connection that failed mid-command, so the next use opens a new one. */
  void discard(SshTarget target, ClientSession session) {
    Pooled p = pool.get(PoolKey.of(target));
    if (p != null) {
      p.lock.lock();
      try {
        if (p.session == session) {
          p.session = null;
        }
      } finally {
        p.lock.unlock();
      }
    }
    // at once: a connection that fails or hangs gets no goodbye it would wait on
    session.close(true);
  }

  // ---- what the operator has of each job's log

  /** The job's log as the operator has it (see LogWindow): a probe sends only what is new to it. */
  LogWindow log(JobRef job) {
    return logs.computeIfAbsent(job.uid(), uid -> new LogWindow(SshRemoteHost.PROBE_LOG_BYTES));
  }

  /** Forgets the job's log (its file was removed, or the job let go): the next probe sends the tail. */
  void forgetLog(JobRef job) {
    logs.remove(job.uid());
  }

  @Override
  public void release(JobRef job) {
    forgetLog(job);
    for (Pooled p : pool.values()) {
      p.lock.lock();
      try {
        if (p.holders.remove(job.uid()) && p.holders.isEmpty()) {
          LOG.debug("{}: closing the connection to {}: the job let go of it", job, p.key);
          retire(p);
        }
      } finally {
        p.lock.unlock();
      }
    }
  }

  private void closeIdle() {
    long now = System.nanoTime();
    long idle = settings.idleTimeout().toNanos();
    for (Pooled p : pool.values()) {
      if (!p.lock.tryLock()) {
        continue; // connecting right now: not idle
      }
      try {
        if (p.inUse == 0 && now - p.idleSince >= idle) {
          if (p.session != null) {
            LOG.debug("closing the connection to {}: unused for {}s", p.key, settings.idleTimeout().toSeconds());
          }
          retire(p);
        }
      } catch (RuntimeException e) {
        LOG.warn("closing an idle connection to {}: {}", p.key, e.toString());
      } finally {
        p.lock.unlock();
      }
    }
  }

  /** Under the entry's lock: out of the pool, its connection closed. */
  private void retire(Pooled p) {
    p.retired = true;
    pool.remove(p.key, p);
    if (p.session != null) {
      closeQuietly(p.session);
      p.session = null;
    }
  }

  private static void closeQuietly(ClientSession session) {
    try {
      session.close();
    } catch (IOException e) {
      LOG.debug("closing session: {}", e.getMessage());
    }
  }

  @Override
  public void close() {
    idleCloser.shutdownNow();
    for (Pooled p : pool.values()) {
      p.lock.lock();
      try {
        retire(p);
      } finally {
        p.lock.unlock();
      }
    }
    client.stop();
  }
}
