package dev.trainingjob.operator.cli;

import dev.trainingjob.operator.provider.ec2.Ec2ApiLimits;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** --ec2-api-limits, checked when the flag is read: a typo must stop the start, not pace EC2 calls to a limit nobody meant. */
final class ApiLimitsConverter implements ITypeConverter<String> {
  @Override
  public String convert(String value) {
    try {
      Ec2ApiLimits.parse(value, 1.0);
      return value;
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
