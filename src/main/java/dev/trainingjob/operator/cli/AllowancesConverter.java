package dev.trainingjob.operator.cli;

import dev.trainingjob.operator.provider.ec2.NamespaceAllowance;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** --ec2-namespace-allowances, checked when the flag is read: a typo must stop the start, not widen a team's reach. */
final class AllowancesConverter implements ITypeConverter<String> {
  @Override
  public String convert(String value) {
    try {
      NamespaceAllowance.parse(value);
      return value;
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
