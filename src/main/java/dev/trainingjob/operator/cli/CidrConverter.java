package dev.trainingjob.operator.cli;

import dev.trainingjob.operator.api.SpecValidator;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** A CIDR such as 198.51.100.7/32, checked when the flag is read rather than when a job launches. */
final class CidrConverter implements ITypeConverter<String> {
  @Override
  public String convert(String value) {
    String v = value.trim();
    if (!SpecValidator.isCidr(v)) {
      throw new TypeConversionException("'" + value + "' is not a CIDR such as 198.51.100.7/32");
    }
    return v;
  }
}
