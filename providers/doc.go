// Package providers declares the capabilities slipway drives the live world
// through: a runtime that runs containers, a router that sends requests to
// them, databases and metric sources. The planner and the executor depend on
// these interfaces only; implementations live in the docker, nginx and
// postgres subpackages, and providers/factory is the one place that builds
// them. What only some providers can do is an optional ability: a small
// named interface (Pinger, ImagePorts, RestartUpdater, TaskRunner,
// ListenChecker, SwitchPlanner, LiveTableReader, ConfigTester,
// MigrationLister, BackupPruner, Replicator, ImageBuilder, ImagePuller,
// ImageTagger) that callers assert by name.
package providers
