//! Published us-east-1 prices and the cost of calls: DynamoDB on-demand request units and
//! storage, Lambda requests and GB-seconds (arm64), HTTP API requests. docs/cost.md prints
//! [`US_EAST_1`] with [`SOURCES`] and [`CHECKED`]; change them here when AWS does.

use crate::cpu_share::gb_seconds;

/// Prices in USD, us-east-1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prices {
    /// DynamoDB on-demand, per million read request units (since 1 Nov 2024).
    pub dynamodb_read_per_million: f64,
    /// DynamoDB on-demand, per million write request units (since 1 Nov 2024).
    pub dynamodb_write_per_million: f64,
    /// DynamoDB Standard table class storage, per GB-month past the free 25 GB.
    pub dynamodb_storage_gb_month: f64,
    /// Lambda, per million requests.
    pub lambda_per_million: f64,
    /// Lambda arm64, per GB-second (the first tier, up to 7.5 billion GB-seconds a month).
    pub lambda_gb_second: f64,
    /// HTTP API, per million requests (the first 300 million a month).
    pub http_api_per_million: f64,
}

/// us-east-1, as published on the pages of [`SOURCES`] when [`CHECKED`].
pub const US_EAST_1: Prices = Prices {
    dynamodb_read_per_million: 0.125,
    dynamodb_write_per_million: 0.625,
    dynamodb_storage_gb_month: 0.25,
    lambda_per_million: 0.20,
    lambda_gb_second: 0.000_013_333_4,
    http_api_per_million: 1.00,
};

/// The pricing pages the figures come from.
pub const SOURCES: [(&str, &str); 3] = [
    ("DynamoDB on-demand", "https://aws.amazon.com/dynamodb/pricing/on-demand/"),
    ("Lambda", "https://aws.amazon.com/lambda/pricing/"),
    ("API Gateway", "https://aws.amazon.com/api-gateway/pricing/"),
];

/// When the prices were last checked against their sources.
pub const CHECKED: &str = "2026-12-07";

/// The HTTP API price holds up to this many requests a month (then $0.90 per million).
pub const HTTP_API_FIRST_TIER: f64 = 300e6;

/// Assumed DynamoDB latency on AWS per sequential round trip from a Lambda function in the
/// same region, ms (DynamoDB's "single-digit millisecond" reads and writes; a transaction
/// takes longer, a cached connection's GetItem less).
pub const DYNAMODB_ROUND_TRIP_MS: f64 = 5.0;

/// Dollars, by service.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Breakdown {
    pub dynamodb_reads: f64,
    pub dynamodb_writes: f64,
    pub dynamodb_storage: f64,
    pub lambda_requests: f64,
    pub lambda_duration: f64,
    pub http_api: f64,
}

impl Breakdown {
    /// Every service's part, named as docs/cost.md's tables name them.
    pub fn parts(&self) -> [(&'static str, f64); 6] {
        [
            ("DynamoDB reads", self.dynamodb_reads),
            ("DynamoDB writes", self.dynamodb_writes),
            ("DynamoDB storage", self.dynamodb_storage),
            ("Lambda requests", self.lambda_requests),
            ("Lambda GB-seconds", self.lambda_duration),
            ("HTTP API", self.http_api),
        ]
    }

    pub fn total(&self) -> f64 {
        self.parts().iter().map(|p| p.1).sum()
    }

    /// This breakdown with every part multiplied by `k`.
    pub fn times(&self, k: f64) -> Breakdown {
        Breakdown {
            dynamodb_reads: self.dynamodb_reads * k,
            dynamodb_writes: self.dynamodb_writes * k,
            dynamodb_storage: self.dynamodb_storage * k,
            lambda_requests: self.lambda_requests * k,
            lambda_duration: self.lambda_duration * k,
            http_api: self.http_api * k,
        }
    }

    /// The sum of both, part by part.
    pub fn plus(&self, o: &Breakdown) -> Breakdown {
        Breakdown {
            dynamodb_reads: self.dynamodb_reads + o.dynamodb_reads,
            dynamodb_writes: self.dynamodb_writes + o.dynamodb_writes,
            dynamodb_storage: self.dynamodb_storage + o.dynamodb_storage,
            lambda_requests: self.lambda_requests + o.lambda_requests,
            lambda_duration: self.lambda_duration + o.lambda_duration,
            http_api: self.http_api + o.http_api,
        }
    }
}

/// What one call uses: request units, and the Lambda invocation and HTTP API request it is
/// (an activity record is neither; an authorizer call is a Lambda invocation only).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CallFigures {
    pub read_units: f64,
    pub write_units: f64,
    /// The function's memory size and billed duration; `None`: no invocation of its own.
    pub lambda: Option<(u32, f64)>,
    pub http_api: bool,
}

/// The cost of one million calls.
pub fn per_million(call: &CallFigures, prices: &Prices) -> Breakdown {
    let (requests, gb_s) = call.lambda.map_or((0.0, 0.0), |(mb, ms)| (1.0, gb_seconds(mb, ms)));
    Breakdown {
        dynamodb_reads: call.read_units * prices.dynamodb_read_per_million,
        dynamodb_writes: call.write_units * prices.dynamodb_write_per_million,
        dynamodb_storage: 0.0,
        lambda_requests: requests * prices.lambda_per_million,
        lambda_duration: gb_s * 1e6 * prices.lambda_gb_second,
        http_api: if call.http_api { prices.http_api_per_million } else { 0.0 },
    }
}

/// A month of storing `bytes` (DynamoDB's GB is 2^30 bytes).
pub fn storage_month(bytes: f64, prices: &Prices) -> Breakdown {
    Breakdown {
        dynamodb_storage: bytes / f64::from(1u32 << 30) * prices.dynamodb_storage_gb_month,
        ..Default::default()
    }
}

/// The function's own time at a CPU share: its duration there, less what it spent waiting
/// for DynamoDB Local (its full-CPU duration less its CPU time), never under that CPU time.
pub fn own_ms(at_size_ms: f64, full_cpu_ms: f64, cpu_ms: f64) -> f64 {
    let waiting = (full_cpu_ms - cpu_ms).max(0.0);
    (at_size_ms - waiting).max(cpu_ms)
}

/// Lambda's billed duration on AWS: the function's own time plus `round_trip_ms` for each
/// sequential DynamoDB round trip, rounded up to the millisecond Lambda bills by.
pub fn billed_ms(own_ms: f64, sequential: f64, round_trip_ms: f64) -> f64 {
    (own_ms + sequential * round_trip_ms).ceil()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn a_million_logins_by_hand() {
        // 5 RRU, 22 WRU, 1 024 MB for 100 ms: 5 × 0.125 = 0.625; 22 × 0.625 = 13.75;
        // 0.20 for the requests; 1 GB × 0.1 s × 1e6 = 100 000 GB-s × 0.0000133334 = 1.33334;
        // 1.00 for HTTP API. 16.90834 in all.
        let login = CallFigures { read_units: 5.0, write_units: 22.0, lambda: Some((1024, 100.0)), http_api: true };
        let b = per_million(&login, &US_EAST_1);
        assert!(close(b.dynamodb_reads, 0.625));
        assert!(close(b.dynamodb_writes, 13.75));
        assert!(close(b.lambda_requests, 0.20));
        assert!(close(b.lambda_duration, 1.33334));
        assert!(close(b.http_api, 1.0));
        assert!(close(b.total(), 16.90834));
    }

    #[test]
    fn an_activity_record_is_writes_only_and_an_authorizer_call_has_no_http_request() {
        let record = CallFigures { read_units: 0.0, write_units: 2.0, lambda: None, http_api: false };
        assert!(close(per_million(&record, &US_EAST_1).total(), 1.25));
        // 0.5 RRU, 128 MB for 8 ms: 0.0625 + 0.20 + 0.125 × 0.008 × 1e6 × 0.0000133334 (0.0133334).
        let check = CallFigures { read_units: 0.5, write_units: 0.0, lambda: Some((128, 8.0)), http_api: false };
        assert!(close(per_million(&check, &US_EAST_1).total(), 0.2758334));
    }

    #[test]
    fn storage_and_sums() {
        // 3 GiB for a month: 0.75.
        let s = storage_month(3.0 * 1024.0 * 1024.0 * 1024.0, &US_EAST_1);
        assert!(close(s.total(), 0.75));
        let both = s.plus(&s.times(2.0));
        assert!(close(both.dynamodb_storage, 2.25));
        assert_eq!(both.parts()[2].0, "DynamoDB storage");
    }

    #[test]
    fn own_time_takes_out_the_local_waiting() {
        // 10 ms at full CPU of which 2 ms CPU: 8 ms waiting; 30 ms at the share: 22 ms its own.
        assert!(close(own_ms(30.0, 10.0, 2.0), 22.0));
        // Noise that puts the share's run under the full one still leaves the CPU time.
        assert!(close(own_ms(9.0, 10.0, 2.0), 2.0));
        assert!(close(billed_ms(22.0, 3.0, 5.0), 37.0));
        assert!(close(billed_ms(22.2, 3.0, 5.0), 38.0));
    }
}
