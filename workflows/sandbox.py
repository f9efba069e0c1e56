"""The sandbox LeadWorkflow runs in. Every worker and replayer must use this runner."""

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

# The models' validators call these while the workflow decodes its input, and they load
# data lazily (phonenumbers imports a module per region on first use). Imported inside
# the sandbox, that lazy load fails while holding a lock and hangs the worker thread.
PASSTHROUGH_MODULES = ("phonenumbers", "email_validator", "idna")


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    )
