//! The whole stack in-process (config-api, one executor, ingress) on the benchmark's own
//! database and AMQP prefix, with the few calls the benchmark makes to it.

use std::time::{Duration, Instant};

use serde_json::Value;
use shared::{
    config::{Config, Service},
    testkit::{ADMIN_TOKEN, Running, TestEnv, start_service},
};
use uuid::Uuid;

/// Services are declared before the environment so that they stop before it is removed.
pub struct Stack {
    ingress: Running,
    executor: Running,
    config_api: Running,
    http: reqwest::Client,
    pool: deadpool_postgres::Pool,
    env: TestEnv,
}

/// A workflow created over the REST API.
pub struct Workflow {
    /// Its id.
    pub id: Uuid,
    /// Its webhook key.
    pub key: String,
}

impl Stack {
    /// Starts the services and waits until each is ready. The executor keeps the
    /// production pool size (the test kit's is smaller, for tests running side by side).
    pub async fn start() -> Stack {
        let env = TestEnv::new().await;
        let config_api =
            start_service(hookflow_config_api::run, env.config(Service::ConfigApi)).await;
        let mut executor_config = env.config(Service::Executor);
        executor_config.database_pool_size = Config::defaults(Service::Executor).database_pool_size;
        let executor = start_service(hookflow_executor::run, executor_config).await;
        let mut ingress_config = env.config(Service::Ingress);
        ingress_config.config_api_url = config_api.url.clone();
        ingress_config.publish_timeout_ms = Config::defaults(Service::Ingress).publish_timeout_ms;
        let ingress = start_service(hookflow_ingress::run, ingress_config).await;
        Stack {
            ingress,
            executor,
            config_api,
            http: reqwest::Client::new(),
            pool: env.pool(),
            env,
        }
    }

    /// Creates a workflow from `document`.
    pub async fn create_workflow(&self, document: Value) -> Workflow {
        let response = self
            .http
            .post(format!("{}/api/workflows", self.config_api.url))
            .bearer_auth(ADMIN_TOKEN)
            .json(&document)
            .send()
            .await
            .expect("config-api answers");
        let status = response.status();
        let created: Value = response.json().await.expect("config-api JSON");
        assert_eq!(status, 201, "workflow not created: {created}");
        Workflow {
            id: created["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .expect("workflow id"),
            key: created["key"].as_str().expect("workflow key").to_owned(),
        }
    }

    /// The webhook URL of `workflow`.
    pub fn webhook(&self, workflow: &Workflow) -> String {
        format!("{}/api/webhook:trigger/{}", self.ingress.url, workflow.key)
    }

    /// Executions of `workflow` recorded in a final state.
    pub async fn recorded(&self, workflow: &Workflow) -> usize {
        let client = self.pool.get().await.expect("database connection");
        let row = client
            .query_one(
                "SELECT count(*) FROM executions \
                 WHERE workflow_id = $1 AND status NOT IN ('queued', 'started')",
                &[&workflow.id],
            )
            .await
            .expect("count executions");
        let count: i64 = row.get(0);
        usize::try_from(count).unwrap_or(0)
    }

    /// Waits (at most `limit`) until `workflow` has `count` recorded executions: when they
    /// were all there, or how many were when time ran out.
    pub async fn recorded_by(
        &self,
        workflow: &Workflow,
        count: usize,
        limit: Duration,
    ) -> Result<Instant, usize> {
        let deadline = Instant::now() + limit;
        loop {
            let recorded = self.recorded(workflow).await;
            if recorded >= count {
                return Ok(Instant::now());
            }
            if Instant::now() >= deadline {
                return Err(recorded);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the services gracefully, then removes the database and the AMQP prefix.
    pub async fn stop(self) {
        let Stack {
            ingress,
            executor,
            config_api,
            env,
            pool,
            ..
        } = self;
        let _ = ingress.stop().await;
        let _ = executor.stop().await;
        let _ = config_api.stop().await;
        pool.close();
        drop(env);
    }
}
