package providers

// Set is the providers one operation works with. A nil field means the
// configuration declares no such capability.
type Set struct {
	Runtime   Runtime
	Router    Router
	Databases map[string]Database // by postgres block name
}

// Observations is what the planner learns of the live world before it plans.
type Observations struct {
	Containers []Container
	Routes     []RouteFile
	// Images maps each image reference the configuration names to its local
	// id; a reference missing from the map was not found.
	Images map[string]string
	// ImageIDs holds the ids of images that rollback targets need, true
	// when the image is still present.
	ImageIDs map[string]bool
	// Databases holds what each postgres block's database and migration
	// directory say, by block name.
	Databases map[string]*DatabaseObservation
	// ExposedPorts maps an image reference the configuration names to the
	// TCP ports the image declares (EXPOSE); a reference missing from the
	// map, or mapped to none, declares nothing the planner can check.
	ExposedPorts map[string][]int
	// Listen holds, by port, who listens where the router would listen
	// for each route port of the configuration; nil when the router
	// cannot tell.
	Listen map[int]ListenPort
}

// DatabaseObservation is one database as observed: the migrations table
// and the migration files, compared.
type DatabaseObservation struct {
	Applied []AppliedMigration
	Files   []Migration
	Pending []Migration
	// Problem, when not nil, stops planning: an applied file that changed
	// or vanished, or a dirty migration.
	Problem error
}
