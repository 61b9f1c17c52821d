package dev.trainingjob.operator.cli;

import dev.trainingjob.operator.provider.ec2.OperatorId;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** An operator id that can name one install on AWS, checked when the flag is read; blank (a manifest's "") is none. */
final class OperatorIdConverter implements ITypeConverter<String> {
  @Override
  public String convert(String value) {
    String v = value.trim();
    if (v.isEmpty()) {
      return v;
    }
    OperatorId.problem(v).ifPresent(p -> {
      throw new TypeConversionException(p);
    });
    return v;
  }
}
