package dev.trainingjob.operator;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.junit.LocationProvider;
import com.tngtech.archunit.lang.ArchRule;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Set;

/**
 * Which of our packages may import which, as docs/architecture.md draws it: imports go downward only,
 * from cli at the top to api at the bottom. Most rules name what is allowed rather than what is
 * forbidden, so a new package or a new arrow upward fails here first, naming the class and line.
 */
@AnalyzeClasses(locations = ArchitectureTest.OurClasses.class, importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  static final String OURS = "dev.trainingjob.operator";

  /**
   * Our package in the production classes' folder (target/classes/dev/trainingjob/operator). The same
   * classes as {@code packages = OURS}, without scanning every jar on the test classpath for that
   * package (which took most of this test's time).
   */
  static final class OurClasses implements LocationProvider {
    @Override
    public Set<Location> get(Class<?> testClass) {
      try {
        Path root = Path.of(Assembly.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        return Set.of(Location.of(root.resolve(OURS.replace('.', '/'))));
      } catch (URISyntaxException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private static String pkg(String name) {
    return OURS + "." + name + "..";
  }

  /** Our classes outside the given packages (each given with its subpackages, as "name.."). */
  private static DescribedPredicate<JavaClass> oursOtherThan(String... packages) {
    return resideInAPackage(OURS + "..").and(not(resideInAnyPackage(packages)))
        .as("our classes outside " + String.join(", ", packages));
  }

  @ArchTest
  static final ArchRule apiDependsOnNothingOfOurs = noClasses()
      .that().resideInAPackage(pkg("api"))
      .should().dependOnClassesThat(oursOtherThan(pkg("api")))
      .because("api is the TrainingJob resource as users write it and the CRD is generated from it: "
          + "everything else may read it, it reads nothing else");

  @ArchTest
  static final ArchRule jobDependsOnlyOnApi = noClasses()
      .that().resideInAPackage(pkg("job"))
      .should().dependOnClassesThat(oursOtherThan(pkg("job"), pkg("api")))
      .because("job (JobFailure, Reason, EventRecorder) is the leaf every layer throws and reports through: "
          + "if it used any of them, they could no longer all use it");

  @ArchTest
  static final ArchRule kubeDependsOnlyOnApi = noClasses()
      .that().resideInAPackage(pkg("kube"))
      .should().dependOnClassesThat(oursOtherThan(pkg("kube"), pkg("api")))
      .because("kube (reading Secrets) is shared by the operator and the kubectl plugin: a leaf both may use");

  @ArchTest
  static final ArchRule redactDependsOnNothingOfOurs = noClasses()
      .that().resideInAPackage(pkg("redact"))
      .should().dependOnClassesThat(oursOtherThan(pkg("redact")))
      .because("redact masks secrets in plain text for status, the loop's messages and the kubectl plugin alike: "
          + "a leaf on text alone, so every place that shows text to people can use the same one");

  @ArchTest
  static final ArchRule statusDependsOnlyOnWhatItAssembles = noClasses()
      .that().resideInAPackage(pkg("status"))
      .should().dependOnClassesThat(oursOtherThan(pkg("status"), pkg("api"), pkg("job"), pkg("progress"),
          pkg("cost"), pkg("redact"), OURS + ".remote"))
      .because("status assembles the status from what was observed (the probe, progress, cost, failures) "
          + "and must stay testable without a provider, SSH (remote.ssh) or the reconcile loop");

  @ArchTest
  static final ArchRule statusNeverUsesTheLayersAboveIt = noClasses()
      .that().resideInAPackage(pkg("status"))
      .should().dependOnClassesThat().resideInAnyPackage(pkg("reconciler"), pkg("provider"), pkg("cli"))
      .because("the reconciler calls status, not the other way round, and a status that knew a provider "
          + "would differ by provider; the loop's steps decide, status only writes down");

  @ArchTest
  static final ArchRule progressDependsOnlyOnApi = noClasses()
      .that().resideInAPackage(pkg("progress"))
      .should().dependOnClassesThat(oursOtherThan(pkg("progress"), pkg("api")))
      .because("progress parses what a script reports (progress.jsonl, the log) into api types: "
          + "pure functions, testable on text alone");

  @ArchTest
  static final ArchRule costDependsOnlyOnApi = noClasses()
      .that().resideInAPackage(pkg("cost"))
      .should().dependOnClassesThat(oursOtherThan(pkg("cost"), pkg("api")))
      .because("cost is a price list and arithmetic over api types: "
          + "it must not learn about providers, machines or the loop");

  @ArchTest
  static final ArchRule theLowerLayersNeverUseTheReconciler = noClasses()
      .that().resideInAnyPackage(pkg("provider"), pkg("remote"), pkg("progress"), pkg("api"), pkg("job"),
          pkg("status"), pkg("cost"), pkg("config"), pkg("metrics"), pkg("redact"))
      .should().dependOnClassesThat().resideInAPackage(pkg("reconciler"))
      .because("the reconciler drives providers, machines and the status; "
          + "an arrow back up would tie them to one loop and make them untestable alone");

  @ArchTest
  static final ArchRule onlyTheTopUsesTheReconciler = noClasses()
      .that().resideInAPackage(OURS + "..")
      .and().resideOutsideOfPackages(pkg("cli"), pkg("demo"), pkg("reconciler"))
      .and().doNotBelongToAnyOf(Assembly.class, OperatorRuntime.class)
      .should().dependOnClassesThat().resideInAPackage(pkg("reconciler"))
      .because("the reconciler is wired by Assembly and OperatorRuntime and started by cli and demo; "
          + "any other user, new packages included, is an arrow upward");

  @ArchTest
  static final ArchRule nothingBelowUsesTheCli = noClasses()
      .that().resideOutsideOfPackage(pkg("cli"))
      .should().dependOnClassesThat().resideInAPackage(pkg("cli"))
      .because("cli (run, demo, the kubectl plugin) is the top: it parses flags and starts things, "
          + "and what it starts must work without it (tests, the embedded demo)");

  @ArchTest
  static final ArchRule noCyclesBetweenOurPackages = slices()
      .matching(OURS + ".(*)..")
      .should().beFreeOfCycles()
      .because("a cycle makes two packages one: neither can be understood, tested or changed alone");
}
