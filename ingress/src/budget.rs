//! A bound on the bytes of all webhook bodies being read or held at once
//! (`HOOKFLOW_MAX_BUFFERED_BYTES`): past it a call is refused with 503 at once, instead of
//! ingress growing until the kernel kills it.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::WebhookError;

/// The shared budget; one per ingress.
pub struct BodyBudget {
    bytes: Arc<Semaphore>,
}

/// Bytes a call holds of the budget, given back when it is dropped.
pub struct Held {
    permit: Option<OwnedSemaphorePermit>,
}

impl BodyBudget {
    /// A budget of `bytes`.
    pub fn new(bytes: usize) -> BodyBudget {
        BodyBudget {
            bytes: Arc::new(Semaphore::new(bytes.min(Semaphore::MAX_PERMITS))),
        }
    }

    /// Nothing held yet.
    pub fn none(&self) -> Held {
        Held { permit: None }
    }

    /// Adds `bytes` to what `held` holds, or refuses when the budget has no room left.
    pub fn grow(&self, held: &mut Held, bytes: usize) -> Result<(), WebhookError> {
        if bytes == 0 {
            return Ok(());
        }
        let more = u32::try_from(bytes)
            .ok()
            .and_then(|bytes| Arc::clone(&self.bytes).try_acquire_many_owned(bytes).ok())
            .ok_or_else(|| {
                tracing::warn!(bytes, "body budget exhausted; refusing the call");
                WebhookError::Overloaded
            })?;
        match held.permit.as_mut() {
            Some(permit) => permit.merge(more),
            None => held.permit = Some(more),
        }
        Ok(())
    }

    /// Bytes not held by any call.
    pub fn available(&self) -> usize {
        self.bytes.available_permits()
    }
}

impl Held {
    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.permit
            .as_ref()
            .map_or(0, |permit| permit.num_permits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_hold_bytes_until_dropped_and_are_refused_past_the_budget() {
        let budget = BodyBudget::new(100);
        let mut first = budget.none();
        budget.grow(&mut first, 60).expect("fits");
        budget.grow(&mut first, 20).expect("still fits");
        assert_eq!(first.bytes(), 80);
        let mut second = budget.none();
        assert!(matches!(
            budget.grow(&mut second, 21),
            Err(WebhookError::Overloaded)
        ));
        budget.grow(&mut second, 20).expect("the rest");
        assert_eq!(budget.available(), 0);
        drop(first);
        assert_eq!(budget.available(), 80);
        drop(second);
        assert_eq!(budget.available(), 100);
    }
}
