package dev.trainingjob.operator.embedded;

import io.fabric8.kubernetes.client.server.mock.KubernetesAttributesExtractor;
import io.fabric8.mockwebserver.crud.Attribute;
import io.fabric8.mockwebserver.crud.AttributeSet;
import io.fabric8.mockwebserver.crud.AttributeType;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The mock server's store of objects with an index of its keys by object name, kept by every put and remove: the mock
 * server finds a named object (each write; and each create, to refuse a name taken) by testing every stored key, so a
 * write cost grew with everything stored — at thousands of jobs and their Events (each one a create under a new name),
 * creates queued behind the API's one write lock. With the index a named lookup tests only the keys of that name.
 * Iteration and everything else are the LinkedHashMap's, as in the mock server's own store.
 */
final class NamedStore extends LinkedHashMap<AttributeSet, String> {
  private final Map<Attribute, Set<AttributeSet>> byName = new HashMap<>();

  /** The name a lookup asks for, when it asks for exactly one; null otherwise (then only a scan answers it). */
  static Attribute nameOf(AttributeSet query) {
    Attribute name = query.getAttribute(KubernetesAttributesExtractor.NAME);
    return name != null && name.getType() == AttributeType.WITH ? name : null;
  }

  /** The stored keys of objects with this name (of any kind, in any namespace), oldest first. */
  Set<AttributeSet> named(Attribute name) {
    return byName.getOrDefault(name, Collections.emptySet());
  }

  @Override
  public String put(AttributeSet key, String value) {
    String before = super.put(key, value);
    Attribute name = nameOf(key);
    if (name != null) {
      byName.computeIfAbsent(name, n -> new LinkedHashSet<>()).add(key);
    }
    return before;
  }

  @Override
  public String remove(Object key) {
    String before = super.remove(key);
    if (before != null && key instanceof AttributeSet set) {
      Attribute name = nameOf(set);
      if (name != null) {
        Set<AttributeSet> keys = byName.get(name);
        if (keys != null && keys.remove(set) && keys.isEmpty()) {
          byName.remove(name);
        }
      }
    }
    return before;
  }

  @Override
  public void clear() {
    super.clear();
    byName.clear();
  }

  // The mock server changes its store only with put, remove and clear (fabric8 7.5.2). Any other way would leave the
  // index behind the store, so it is refused rather than served wrong; the views are for reading.

  @Override
  public Set<Map.Entry<AttributeSet, String>> entrySet() {
    return Collections.unmodifiableSet(super.entrySet());
  }

  @Override
  public Set<AttributeSet> keySet() {
    return Collections.unmodifiableSet(super.keySet());
  }

  @Override
  public java.util.Collection<String> values() {
    return Collections.unmodifiableCollection(super.values());
  }

  @Override
  public void putAll(Map<? extends AttributeSet, ? extends String> m) {
    m.forEach(this::put);
  }

  @Override
  public String putIfAbsent(AttributeSet key, String value) {
    throw unsupported();
  }

  @Override
  public boolean remove(Object key, Object value) {
    throw unsupported();
  }

  @Override
  public String replace(AttributeSet key, String value) {
    throw unsupported();
  }

  @Override
  public boolean replace(AttributeSet key, String oldValue, String newValue) {
    throw unsupported();
  }

  @Override
  public void replaceAll(java.util.function.BiFunction<? super AttributeSet, ? super String, ? extends String> f) {
    throw unsupported();
  }

  @Override
  public String computeIfAbsent(AttributeSet key, java.util.function.Function<? super AttributeSet, ? extends String> f) {
    throw unsupported();
  }

  @Override
  public String computeIfPresent(AttributeSet key,
      java.util.function.BiFunction<? super AttributeSet, ? super String, ? extends String> f) {
    throw unsupported();
  }

  @Override
  public String compute(AttributeSet key, java.util.function.BiFunction<? super AttributeSet, ? super String, ? extends String> f) {
    throw unsupported();
  }

  @Override
  public String merge(AttributeSet key, String value,
      java.util.function.BiFunction<? super String, ? super String, ? extends String> f) {
    throw unsupported();
  }

  private static UnsupportedOperationException unsupported() {
    return new UnsupportedOperationException("the embedded API's store is changed by put, remove and clear only (its index by "
        + "name follows those)");
  }
}
