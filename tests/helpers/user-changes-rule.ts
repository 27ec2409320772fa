// The EventBridge rule's pattern for the user-changes function comes from src (the event list is
// there, once): the deploy tier checks each IaC flavour against it, the AWS tier routes events
// with it.

export { userChangesRulePattern } from '../../src/domain/user-events.js';
