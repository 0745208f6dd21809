package providers

// Set is the providers one operation works with. A nil field means the
// configuration declares no such capability.
type Set struct {
	Runtime Runtime
	Router  Router
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
}
