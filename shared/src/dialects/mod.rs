//! Wire shapes. Handlers return typed results; this is the one place that turns them
//! into the bodies and statuses clients of the copied products expect.

pub mod monocloud;
pub mod rocketchat;

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::encodings::Body;
use http::{HeaderName, HeaderValue};

/// An HTTP response before it is handed to API Gateway or the local server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl ApiResponse {
    /// A JSON response with the headers every answer carries.
    pub fn json(status: u16, content_type: &str, body: String) -> Self {
        ApiResponse {
            status,
            headers: vec![
                ("content-type".into(), content_type.into()),
                // Session data is per-user and sensitive: never cache it anywhere.
                ("cache-control".into(), "no-store".into()),
            ],
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (`Null` when empty or not JSON); for tests and tools.
    pub fn json_body(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The payload-2.0 response API Gateway expects from the function.
    pub fn into_apigw(self) -> ApiGatewayV2httpResponse {
        let mut resp = ApiGatewayV2httpResponse::default();
        resp.status_code = i64::from(self.status);
        for (k, v) in self.headers {
            if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
                resp.headers.insert(k, v);
            }
        }
        resp.body = (!self.body.is_empty()).then_some(Body::Text(self.body));
        resp
    }
}
