// The signed-in session. One PeliqanEmbed per end-customer: the SDK keeps
// that tenant's token in memory, so a tenant switch makes a new instance and
// answers still arriving for the old one are dropped (see isActive).

export const session = { embed: null, user: null };

/** Whether `embed` still belongs to the signed-in user. */
export const isActive = (embed) => embed !== null && session.embed === embed;
