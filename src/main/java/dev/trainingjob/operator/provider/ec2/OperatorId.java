package dev.trainingjob.operator.provider.ec2;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The install's identity on AWS: the value of the managed-by tag on every instance, volume and security group the ec2
 * provider creates, the filter of its instance view and of its orphan sweeper, and the value the IAM policy's conditions
 * name. Two installs that share it in one account see each other's instances as their own, and each one's sweeper
 * terminates the other's as orphans. So it has no default, and the value every install used to get by default is refused.
 */
public final class OperatorId {
  private OperatorId() {}

  /** The default of every install before operator ids had to be chosen: other installs in the account may still carry it. */
  public static final String FORMER_DEFAULT = "trainingjob-operator";

  /**
   * A DNS label: fits a tag value and an IAM condition, and holds no '*' or '?', which EC2's filters read as wildcards
   * (an id "team-*" would see, and sweep, every team's instances).
   */
  private static final Pattern FORM = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  /** Why {@code id} cannot name an install on AWS; empty when it can. */
  public static Optional<String> problem(String id) {
    if (id == null || id.isBlank()) {
      return Optional.of("no operator id is set: the ec2 provider needs one that names this install alone (--operator-id or "
          + "TRAININGJOB_OPERATOR_ID, e.g. ml-prod-eu1), since everything it creates on AWS carries it, its sweeper judges only "
          + "what carries it, and the IAM policy's conditions name it");
    }
    if (!FORM.matcher(id).matches()) {
      return Optional.of("operator id '" + id + "' must be 1 to 63 lower-case letters, digits and '-', beginning and ending "
          + "with a letter or digit: it is a tag value EC2 filters on, where '*' and '?' would match other installs' instances");
    }
    if (FORMER_DEFAULT.equals(id)) {
      return Optional.of("operator id '" + FORMER_DEFAULT + "' was every install's default before ids had to be chosen, so "
          + "other installs in the account may carry it, and each would terminate the other's instances as orphans: choose a "
          + "name of this install's own (README, Upgrading: what happens to instances launched under the old id)");
    }
    return Optional.empty();
  }

  /** The id, or an IllegalArgumentException saying why it cannot name an install. */
  public static String require(String id) {
    problem(id).ifPresent(p -> {
      throw new IllegalArgumentException(p);
    });
    return id;
  }
}
