package dev.trainingjob.operator.provider.ec2;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The quota an instance type counts against decides which fallback types are worth asking for. */
class Ec2ErrorsTest {
  @Test
  void typesFallInTheQuotaBucketsEc2CountsThemIn() {
    assertThat(Ec2Errors.quota("g5.xlarge").bucket()).isEqualTo("G and VT");
    assertThat(Ec2Errors.quota("gr6.4xlarge").bucket()).as("G with a graphics suffix").isEqualTo("G and VT");
    assertThat(Ec2Errors.quota("vt1.3xlarge").bucket()).isEqualTo("G and VT");
    assertThat(Ec2Errors.quota("p5.48xlarge").bucket()).isEqualTo("P");
    assertThat(Ec2Errors.quota("hpc7g.4xlarge").bucket()).isEqualTo("HPC");
    assertThat(Ec2Errors.quota("u-6tb1.metal").bucket()).isEqualTo("High Memory");
    assertThat(Ec2Errors.quota("m7i.large").bucket()).startsWith("Standard");
    assertThat(Ec2Errors.quota("g6.xlarge").increaseCommand(false)).contains("--quota-code L-DB2E81BA");
    assertThat(Ec2Errors.quota("g6.xlarge").increaseCommand(true)).contains("--quota-code L-3819A6DF");
    assertThat(Ec2Errors.quota("hpc7g.4xlarge").increaseCommand(false)).contains("list-service-quotas");
  }
}
