package dev.trainingjob.operator.provider.ec2;

import dev.trainingjob.operator.fake.ec2.Ec2Harness;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** Each test gets its own fake EC2 account, API and started operator, and leaves nothing running. */
abstract class WithEc2Operator {
  @TempDir
  Path tmp;
  Ec2Harness h;

  @BeforeEach
  void startOperator() throws Exception {
    h = new Ec2Harness(tmp).startOperator();
  }

  @AfterEach
  void stopEverything() {
    h.close();
  }
}
