export const veilnetTasks = [];
