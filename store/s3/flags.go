package s3

import "github.com/spf13/pflag"

// AddFlags registers the S3 options as command-line flags on fs, so every
// command that reads or writes s3:// URLs spells them the same way:
//
//	--s3-endpoint URL       S3-compatible server (MinIO, versitygw, Ceph, R2...)
//	--s3-path-style         address buckets as ENDPOINT/BUCKET/KEY
//	--s3-region REGION      region (default: AWS configuration, else us-east-1)
//	--s3-max-attempts N     tries per request on transient errors
//	--s3-part-size BYTES    multipart part size
//	--s3-concurrency N      parts of one object uploading at once
//
// Credentials are deliberately not flags: they come from the AWS standard
// chain (environment, profiles, roles), so they never show in ps or shell
// history.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Endpoint, "s3-endpoint", o.Endpoint, "base URL of an S3-compatible server (default: AWS, or $AWS_ENDPOINT_URL_S3)")
	fs.BoolVar(&o.PathStyle, "s3-path-style", o.PathStyle, "address buckets as <endpoint>/<bucket>/<key> (most self-hosted S3 servers need this)")
	fs.StringVar(&o.Region, "s3-region", o.Region, "S3 region (default: from the AWS configuration, else "+DefaultRegion+")")
	fs.IntVar(&o.MaxAttempts, "s3-max-attempts", o.MaxAttempts, "tries per S3 request before a transient error is returned (0: the SDK's default, 3)")
	fs.IntVar(&o.Concurrency, "s3-concurrency", o.Concurrency, "parts of one object uploaded at once (0: 2)")
	fs.Int64Var(&o.PartSize, "s3-part-size", o.PartSize, "multipart upload part size in bytes (0: 8 MiB; at least 5 MiB)")
}
