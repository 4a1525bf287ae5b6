import type { BudgetAlerts } from "../core/budgets.ts";
import type { Database } from "./database.ts";
import { budgetAlerts } from "./schema.ts";

/** The Drizzle implementation of the budget warnings' claims. */
export function createBudgetAlerts(database: Database): BudgetAlerts {
  return {
    async claim({ project, kind, periodStart, percent }) {
      const inserted = await database.db
        .insert(budgetAlerts)
        .values({ projectName: project, kind, periodStart, percent })
        .onConflictDoNothing()
        .returning({ project: budgetAlerts.projectName });
      return inserted.length > 0;
    },
  };
}
