package s3

// CompositeCRC exposes compositeCRC to the external tests, which check it
// against what the S3 server computes.
var CompositeCRC = compositeCRC
