"""STS (query protocol, XML) for the calls SageMaker clients make: GetCallerIdentity."""
